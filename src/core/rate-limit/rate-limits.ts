import { Injectable } from '@nestjs/common';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../errors/domain-error';
import { RedisService } from '../redis/redis.service';

export interface RateLimitSpec {
  /** names the Redis keys: `<prefix>:ratelimit:<name>:<key>` */
  name: string;
  points: number;
  durationSeconds: number;
  /** the error code a refused call answers with */
  code: string;
  /** the refusal's message; `retryAfterSeconds` is what the Retry-After header says */
  message: (key: string, retryAfterSeconds: number) => string;
}

/** One fixed window per key; refusal is a 429 whose Retry-After is the time until the window ends. */
export class RateLimit {
  constructor(
    private readonly limiter: RateLimiterRedis,
    private readonly spec: RateLimitSpec,
  ) {}

  /** Counts one call for `key`; throws TooManyRequestsError past the limit. Redis failures propagate. */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      const retryAfterSeconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
      throw new TooManyRequestsError(this.spec.code, this.spec.message(key, retryAfterSeconds), retryAfterSeconds);
    }
  }
}

/**
 * Rate limits counted in Redis with one Lua script per call (increment and expiry are atomic),
 * so every API replica on the same Redis and prefix shares each limit.
 */
@Injectable()
export class RateLimits {
  constructor(private readonly redis: RedisService) {}

  create(spec: RateLimitSpec): RateLimit {
    const limiter = new RateLimiterRedis({
      storeClient: this.redis.client,
      keyPrefix: this.redis.key('ratelimit', spec.name),
      points: spec.points,
      duration: spec.durationSeconds,
    });
    return new RateLimit(limiter, spec);
  }
}
