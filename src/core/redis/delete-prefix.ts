import { Redis } from 'ioredis';

/**
 * Removes every key under `prefix:` (SCAN + UNLINK, in pages): what a test run, a benchmark
 * or a scratch environment leaves behind under its own REDIS_PREFIX. Never called on the
 * prefix of a live deployment.
 */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<number> {
  if (!/^[a-z0-9_-]+$/i.test(prefix)) throw new Error(`not a Cutover Redis prefix: ${prefix}`);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: () => null });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 5000);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}
