import type { Redis } from 'ioredis';
import { createRedis, isCluster } from './redis.service';

/**
 * Removes every key under `prefix:` (SCAN + UNLINK, in pages): what a test run, a benchmark
 * or a scratch environment leaves behind under its own REDIS_PREFIX. Never called on the
 * prefix of a live deployment. In a cluster every master is scanned and each key unlinked on
 * its own (keys of different slots cannot go in one command).
 */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<number> {
  if (!/^[a-z0-9_-]+$/i.test(prefix)) throw new Error(`not a Cutover Redis prefix: ${prefix}`);
  const redis = createRedis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null, enableAutoPipelining: false });
  await redis.connect();
  try {
    if (!isCluster(redis)) return await deleteOn(redis, prefix, false);
    const masters = (redis as unknown as { nodes(role: 'master'): Redis[] }).nodes('master');
    let deleted = 0;
    for (const node of masters) deleted += await deleteOn(node, prefix, true);
    return deleted;
  } finally {
    redis.disconnect();
  }
}

async function deleteOn(redis: Redis, prefix: string, oneByOne: boolean): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
    if (keys.length > 0 && !oneByOne) deleted += await redis.unlink(...keys);
    if (keys.length > 0 && oneByOne) {
      const pipe = redis.pipeline();
      for (const k of keys) pipe.unlink(k);
      deleted += ((await pipe.exec()) ?? []).reduce((n, [, v]) => n + Number(v ?? 0), 0);
    }
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
