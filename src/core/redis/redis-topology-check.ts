import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { redisTopology } from '../../config/redis-url';

const log = new Logger('RedisTopology');

/**
 * Start-up check: REDIS_URL must name the kind of Redis that answers. A single-server URL on a
 * cluster node would send multi-key scripts to nodes that do not own their slots (MOVED and
 * CROSSSLOT errors at the first batch); a cluster URL on a single server never gets a slot map.
 * Asks the first node directly (a cluster client would retry forever against a single server).
 * A Redis that does not answer is not refused here: the connections wait for it as they do later.
 */
export async function checkRedisTopology(url: string): Promise<void> {
  const topology = redisTopology(url);
  const probe =
    topology.mode === 'standalone'
      ? new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 })
      : new Redis({ ...topology.nodes[0], username: topology.username, password: topology.password, tls: topology.tls ? {} : undefined, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  let info: string;
  try {
    await probe.connect();
    info = await probe.info('cluster');
  } catch (err) {
    log.warn(`could not check which kind of Redis REDIS_URL names (it does not answer yet): ${String(err)}`);
    return;
  } finally {
    probe.disconnect();
  }
  const refusal = topologyMismatch(topology.mode, info);
  if (refusal) throw new Error(refusal);
}

/** Why this configuration cannot work against a server whose `INFO cluster` is `info`, or null. */
export function topologyMismatch(mode: 'standalone' | 'cluster', info: string): string | null {
  const enabled = /cluster_enabled:1/.test(info);
  if (mode === 'standalone' && enabled) {
    return 'REDIS_URL names a single Redis (redis://) but the server is a Redis Cluster node: scripts over several keys would hit MOVED/CROSSSLOT errors. Use redis+cluster://host:port[,host:port…] so that Cutover places hash tags and follows the slot map.';
  }
  if (mode === 'cluster' && !enabled) {
    return 'REDIS_URL names a Redis Cluster (redis+cluster://) but the server has cluster mode disabled (cluster-enabled no). Use redis://host:port for a single Redis.';
  }
  return null;
}
