import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool, type PoolClient, type QueryResultRow } from 'pg';
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
  return createDatabase(url, poolSize, poolTimeoutMs).client;
}

/** Prisma over a pg pool that the caller may also use directly ($disconnect ends the pool). */
export function createDatabase(url: string, poolSize: number, poolTimeoutMs = 30_000): { client: PrismaClient; pool: Pool } {
  const pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: poolTimeoutMs });
  // an idle connection that dies (server restart, pg_terminate_backend) emits 'error' on the
  // pool; with no listener that would crash the process before Prisma's adapter adds its own
  // (on its first query). The pool drops that connection either way.
  pool.on('error', () => undefined);
  return { client: new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) }), pool };
}

/** One statement of a `directTransaction`, rows as node-postgres parses them. */
export type DirectQuery = <T extends QueryResultRow>(sql: Prisma.Sql) => Promise<T[]>;

/** A SET LOCAL value the direct transaction may carry: a duration such as `2s` or `500ms`. */
const SETTING_VALUE = /^[0-9]+(ms|s|min)?$/;

@Injectable()
export class PrismaService implements OnModuleDestroy {
  readonly client: PrismaClient;
  private readonly pool: Pool;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    ({ client: this.client, pool: this.pool } = createDatabase(config.database.url, config.database.poolSize, config.database.poolTimeoutMs));
  }

  /**
   * One statement on Prisma's own pool, past Prisma's query compiler and result mapping:
   * for the migration's per-batch statements only, where that layer cost ≈ 2 ms of worker CPU
   * per statement (docs/benchmarks.md). Values come back as node-postgres parses them
   * (bigint as text, jsonb as objects); errors are pg's, with the SQLSTATE in `code`.
   */
  async direct<T extends QueryResultRow>(sql: Prisma.Sql): Promise<T[]> {
    return (await this.pool.query<T>(sql.text, sql.values)).rows;
  }

  /**
   * One statement in its own transaction with `SET LOCAL` settings (e.g. lock_timeout), on
   * Prisma's pool as `direct` is: BEGIN and the settings travel in one round trip.
   */
  async directInTransaction<T extends QueryResultRow>(settings: Record<string, string>, sql: Prisma.Sql): Promise<T[]> {
    return this.directTransaction((q) => q<T>(sql), settings);
  }

  /**
   * Several statements in one transaction on Prisma's pool, past Prisma's query layer as
   * `direct` is: for the set-based statements of a group commit (opt-ins, recovery reports).
   * Committed when `fn` resolves, rolled back when it throws.
   */
  async directTransaction<R>(fn: (q: DirectQuery) => Promise<R>, settings: Record<string, string> = {}): Promise<R> {
    const set = Object.entries(settings).map(([name, value]) => {
      if (!/^[a-z_]+$/.test(name) || !SETTING_VALUE.test(value)) throw new RangeError(`not a setting this transaction takes: ${name}=${value}`);
      return `SET LOCAL ${name} = '${value}'`;
    });
    const client: PoolClient = await this.pool.connect();
    // between its queries the checked-out connection has no listener: a connection killed then
    // (pg_terminate_backend, a restart) would emit an unhandled 'error' and crash the process;
    // the next query fails instead, and the connection is dropped below
    const ignore = (): void => undefined;
    client.on('error', ignore);
    const release = (err?: Error | boolean): void => {
      client.off('error', ignore);
      client.release(err);
    };
    try {
      await client.query(['BEGIN', ...set].join('; '));
      const result = await fn(async <T extends QueryResultRow>(sql: Prisma.Sql) => (await client.query<T>(sql.text, sql.values)).rows);
      await client.query('COMMIT');
      release();
      return result;
    } catch (err) {
      // a connection that cannot even roll back is dropped, not handed to the next caller
      await client.query('ROLLBACK').then(
        () => release(),
        (e: unknown) => release(e instanceof Error ? e : true),
      );
      throw err;
    }
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
