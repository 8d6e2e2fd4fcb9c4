import { createHash, randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { createRedis } from '../../src/core/redis/redis.service';
import { bullPrefix } from '../../src/core/redis/redis-topology';

/** Base URLs the test suite talks to (set by scripts/services.sh, or the machine defaults). */
export function baseDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}
export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/**
 * One template per test run (set by the global setup), so that two runs on one machine,
 * from one checkout or two, never drop each other's template.
 */
export function templateName(): string {
  const name = process.env.CUTOVER_TEST_TEMPLATE;
  if (!name) throw new Error('CUTOVER_TEST_TEMPLATE is not set: run database tests through jest (global setup)');
  return name;
}

export function newTemplateName(): string {
  const checkout = createHash('sha1').update(process.cwd()).digest('hex').slice(0, 6);
  return `cutover_tpl_${checkout}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(sql: string): Promise<void> {
  const c = new Client({ connectionString: withDatabase(baseDatabaseUrl(), 'postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh database cloned from the migrated template (fast: file copy, no migrations). */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `cutover_t_${randomBytes(5).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${templateName()}`);
  return {
    name,
    url: withDatabase(baseDatabaseUrl(), name),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export function testRedisPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** A BullMQ queue of a test's Redis prefix, on a single Redis or a cluster (closing it closes its connection). */
export function testQueue(name: string, url: string, prefix: string): Queue {
  const cluster = /^rediss?\+cluster:/.test(url);
  if (!cluster) return new Queue(name, { connection: { url }, prefix: bullPrefix(false, prefix) });
  const connection = createRedis(url, { enableAutoPipelining: false });
  const queue = new Queue(name, { connection, prefix: bullPrefix(true, prefix) });
  const close = queue.close.bind(queue);
  queue.close = async () => {
    await close();
    await connection.quit();
  };
  return queue;
}
