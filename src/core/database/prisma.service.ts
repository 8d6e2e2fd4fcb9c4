import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, Prisma } from '../../generated/prisma/client';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';

/** A client or an open transaction: repositories take either as their last parameter. */
export type Db = PrismaClient | Prisma.TransactionClient;

/**
 * `poolTimeoutMs` bounds the wait for a pool connection: without it a query queued for a
 * connection when the pool ends (the application closing) waits forever, and whatever awaits
 * it (a BullMQ job, an HTTP request, the close itself) hangs. The error it gets is a 503 in the
 * API and a transient failure of a job.
 */
export function createPrismaClient(url: string, poolSize: number, poolTimeoutMs = 30_000): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolSize, connectionTimeoutMillis: poolTimeoutMs }) });
}

@Injectable()
export class PrismaService implements OnModuleDestroy {
  readonly client: PrismaClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = createPrismaClient(config.database.url, config.database.poolSize, config.database.poolTimeoutMs);
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
