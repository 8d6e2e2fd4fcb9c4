import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { checkRedisTopology } from './redis-topology-check';
import { redisTopology } from '../../config/redis-url';
import { groupedKey } from './redis-topology';

/** Options that belong to the cluster client itself rather than to each node's connection. */
const CLUSTER_LEVEL = new Set(['lazyConnect', 'enableOfflineQueue', 'enableAutoPipelining', 'scripts']);

/**
 * A connection for REDIS_URL: a Redis client, or an ioredis Cluster for `redis+cluster://`.
 * A Cluster has the same command interface (it routes each command to the master of its key's
 * slot), so it is typed as Redis and call sites stay one type.
 */
export function createRedis(url: string, extra: Partial<RedisOptions> = {}): Redis {
  const topology = redisTopology(url);
  const options: RedisOptions = { maxRetriesPerRequest: null, enableAutoPipelining: true, lazyConnect: false, ...extra };
  if (topology.mode === 'standalone') return new Redis(url, options);
  const node: Record<string, unknown> = { username: topology.username, password: topology.password, tls: topology.tls ? {} : undefined };
  const top: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) (CLUSTER_LEVEL.has(k) ? top : node)[k] = v;
  if (options.retryStrategy !== undefined) top.clusterRetryStrategy = options.retryStrategy;
  return new Cluster(topology.nodes, { ...top, redisOptions: node }) as unknown as Redis;
}

/** Whether this connection is an ioredis Cluster (createRedis for a redis+cluster:// URL). */
export function isCluster(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/**
 * Shared Redis connections: `client` for commands, `subscriber` for pub/sub (a subscribed
 * connection cannot send other commands), `failFast` for lookups on a request path. Every key
 * goes through `key()` so that each deployment (and each test file) has its own prefix.
 */
@Injectable()
export class RedisService implements OnModuleInit, OnModuleDestroy {
  readonly client: Redis;
  private sub?: Redis;
  private fast?: Redis;
  readonly prefix: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.client = createRedis(config.redis.url);
    this.prefix = config.redis.prefix;
  }

  key(...parts: Array<string | number | bigint>): string {
    return [this.prefix, ...parts.map(String)].join(':');
  }

  /** A key of a group that a script or a multi-key command uses together: one slot in a cluster (see groupedKey). */
  groupKey(group: ReadonlyArray<string | number | bigint>, ...rest: Array<string | number | bigint>): string {
    return groupedKey(this.cluster, this.prefix, group, rest);
  }

  get cluster(): boolean {
    return isCluster(this.client);
  }

  /** Refuses to start against a Redis whose kind (single server or cluster) REDIS_URL does not name. */
  async onModuleInit(): Promise<void> {
    await checkRedisTopology(this.config.redis.url);
  }

  subscriber(): Redis {
    this.sub ??= createRedis(this.config.redis.url);
    return this.sub;
  }

  /**
   * A connection whose commands fail at once while Redis is unreachable (no offline queue, no
   * retry, a short timeout), so that a request can fall back instead of waiting: `client`
   * queues commands until Redis is back, which suits jobs, not an evaluation.
   */
  failFast(): Redis {
    this.fast ??= createRedis(this.config.redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 500 });
    return this.fast;
  }

  /** Whether the command connection is up (no I/O): admin writes refuse at once when it is not. */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.sub?.quit(), this.fast?.quit()]);
  }
}
