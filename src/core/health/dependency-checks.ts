import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import { cutoverMetrics } from '../metrics/metrics';
import { RedisService } from '../redis/redis.service';

export type DependencyState = 'up' | 'down';
export interface DependencyStates {
  postgres: DependencyState;
  redis: DependencyState;
}

async function check(fn: () => Promise<void>, timeoutMs: number): Promise<DependencyState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), timeoutMs)));
  try {
    return await Promise.race([fn().then(() => 'up' as const, () => 'down' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether PostgreSQL and Redis answer; each answer also sets `cutover_dependency_up`. */
@Injectable()
export class DependencyChecks {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
  ) {}

  async check(timeoutMs = 2000): Promise<DependencyStates> {
    const [postgres, redis] = await Promise.all([check(() => this.prisma.ping(), timeoutMs), check(() => this.redis.ping(), timeoutMs)]);
    cutoverMetrics.dependencyUp.set({ dependency: 'postgres' }, postgres === 'up' ? 1 : 0);
    cutoverMetrics.dependencyUp.set({ dependency: 'redis' }, redis === 'up' ? 1 : 0);
    return { postgres, redis };
  }
}
