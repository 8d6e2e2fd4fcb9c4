import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { TooManyRequestsError } from '../core/errors/domain-error';
import { RedisService } from '../core/redis/redis.service';

/** Opt-ins per user per minute and overall per second (Redis counters, one window each). */
@Injectable()
export class OptInRateLimiter {
  constructor(
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(userId: bigint): Promise<void> {
    const m = this.config.migration;
    const now = Date.now();
    const userKey = this.redis.key('ratelimit', 'optin', 'u', userId, Math.floor(now / 60_000));
    const globalKey = this.redis.key('ratelimit', 'optin', 'all', Math.floor(now / 1000));
    const [[, u], , [, g]] = (await this.redis.client.multi().incr(userKey).expire(userKey, 120).incr(globalKey).expire(globalKey, 5).exec()) as Array<[unknown, number]>;
    if (u > m.optInLimitPerUserPerMinute) throw new TooManyRequestsError('opt_in.rate_limited', `too many opt-ins for user ${userId}; retry in a minute`, 60);
    if (g > m.optInLimitPerSecond) throw new TooManyRequestsError('opt_in.rate_limited', 'too many opt-ins right now; retry in a second', 1);
  }
}
