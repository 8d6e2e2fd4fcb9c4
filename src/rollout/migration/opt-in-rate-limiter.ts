import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { RateLimits, type RateLimit } from '../../core/rate-limit/rate-limits';

/** Opt-ins per user per minute, then overall per second, on the shared Redis limits. */
@Injectable()
export class OptInRateLimiter {
  private readonly perUser: RateLimit;
  private readonly overall: RateLimit;

  constructor(limits: RateLimits, @Inject(APP_CONFIG) config: AppConfig) {
    const m = config.migration;
    this.perUser = limits.create({
      name: 'optin:u',
      points: m.optInLimitPerUserPerMinute,
      durationSeconds: 60,
      code: 'opt_in.rate_limited',
      message: (userId, s) => `too many opt-ins for user ${userId}; retry in ${s} s`,
    });
    this.overall = limits.create({
      name: 'optin:all',
      points: m.optInLimitPerSecond,
      durationSeconds: 1,
      code: 'opt_in.rate_limited',
      message: (_, s) => `too many opt-ins right now; retry in ${s} s`,
    });
  }

  async check(userId: bigint): Promise<void> {
    await this.perUser.consume(String(userId));
    await this.overall.consume('all');
  }
}
