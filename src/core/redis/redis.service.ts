import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';

export function createRedis(url: string, extra: Record<string, unknown> = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableAutoPipelining: true, lazyConnect: false, ...extra });
}

/**
 * Shared Redis connections: `client` for commands, `subscriber` for pub/sub (a subscribed
 * connection cannot send other commands). Every key goes through `key()` so that each
 * deployment (and each test file) has its own prefix.
 */
@Injectable()
export class RedisService implements OnModuleDestroy {
  readonly client: Redis;
  private sub?: Redis;
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

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([this.client.quit(), this.sub?.quit()]);
  }
}
