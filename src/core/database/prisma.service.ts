import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from '../../generated/prisma/client';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';

/** A client or an open transaction: repositories take either as their last parameter. */
export type Db = PrismaClient | Prisma.TransactionClient;

export function createPrismaClient(url: string, poolSize: number): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolSize }) });
}

@Injectable()
export class PrismaService implements OnModuleDestroy {
  readonly client: PrismaClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = createPrismaClient(config.database.url, config.database.poolSize);
  }

  /** Runs `fn` in one transaction; every state change plus its audit row goes through here. */
  transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>, timeoutMs = 30_000): Promise<T> {
    return this.client.$transaction(fn, { timeout: timeoutMs, maxWait: 10_000 });
  }

  async ping(): Promise<void> {
    await this.client.$queryRaw`SELECT 1`;
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.$disconnect();
  }
}
