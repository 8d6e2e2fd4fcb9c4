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
  return deleteRedisMatching(url, `${prefix}:*`);
}

/** Removes every key matching a SCAN pattern that starts with a Cutover prefix (tests that simulate a partial loss). */
export async function deleteRedisMatching(url: string, pattern: string): Promise<number> {
  if (!/^[a-z0-9_-]+:/i.test(pattern)) throw new Error(`not a pattern under a Cutover Redis prefix: ${pattern}`);
  const redis = createRedis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null, enableAutoPipelining: false });
  await redis.connect();
  try {
    if (!isCluster(redis)) return await deleteOn(redis, pattern, false);
    const masters = (redis as unknown as { nodes(role: 'master'): Redis[] }).nodes('master');
    let deleted = 0;
    for (const node of masters) deleted += await deleteOn(node, pattern, true);
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Every key matching a SCAN pattern under a Cutover prefix, on every master of a cluster (tests). */
export async function matchingKeys(url: string, pattern: string): Promise<string[]> {
  if (!/^[a-z0-9_-]+:/i.test(pattern)) throw new Error(`not a pattern under a Cutover Redis prefix: ${pattern}`);
  const redis = createRedis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null, enableAutoPipelining: false });
  await redis.connect();
  try {
    const nodes = isCluster(redis) ? (redis as unknown as { nodes(role: 'master'): Redis[] }).nodes('master') : [redis];
    const keys: string[] = [];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, page] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
        keys.push(...page);
        cursor = next;
      } while (cursor !== '0');
    }
    return keys;
  } finally {
    redis.disconnect();
  }
}

async function deleteOn(redis: Redis, pattern: string, oneByOne: boolean): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
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
