import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';

export function createRedis(url: string, extra: Record<string, unknown> = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true, lazyConnect: false, ...extra });
}

/**
 * Shared Redis connections: `client` for commands, `subscriber` for pub/sub (a subscribed
 * connection cannot send other commands), `failFast` for lookups on a request path. Every key
 * goes through `key()` so that each deployment (and each test file) has its own prefix.
 */
@Injectable()
export class RedisService implements OnModuleDestroy {
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
