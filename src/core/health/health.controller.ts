import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { PrismaService } from '../database/prisma.service';
import { RedisService } from '../redis/redis.service';

async function check(fn: () => Promise<void>, timeoutMs = 2000): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => (timer = setTimeout(() => resolve('down'), timeoutMs)));
  try {
    return await Promise.race([fn().then(() => 'up' as const, () => 'down' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
  ) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'up' };
  }

  /** Ready when PostgreSQL and Redis both answer; 503 otherwise, naming which is down. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const [postgres, redis] = await Promise.all([check(() => this.prisma.ping()), check(() => this.redis.ping())]);
    const up = postgres === 'up' && redis === 'up';
    void reply.status(up ? 200 : 503);
    return { status: up ? 'up' : 'down', checks: { postgres, redis } };
  }
}
