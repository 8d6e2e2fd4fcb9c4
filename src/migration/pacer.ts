import { Injectable } from '@nestjs/common';
import { RedisService } from '../core/redis/redis.service';

/**
 * Reserves admission time for a campaign across every worker: each batch of n users takes
 * n / limit seconds of a shared timeline kept in Redis. The answer is how long to wait
 * before claiming; a wait longer than `maxWaitMs` reserves nothing (the job is parked and
 * asks again later).
 */
const RESERVE = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextFree < now then nextFree = now end
local wait = nextFree - now
if wait > maxWait then return wait end
redis.call('SET', KEYS[1], tostring(nextFree + cost), 'PX', math.floor(wait + cost + 60000))
return wait`;

/** The spread of wake-up times among parked jobs that wait for the same pace slot. */
export const PARK_SPREAD_MS = 1000;

/**
 * How long a job that found no pace slot parks: until the slot frees, plus a small offset that
 * is smaller the longer the job has been queued, so that when the slot frees the oldest job
 * wakes first and takes it. Without the offset every parked job woke at the same moment and a
 * random one won: at a low pace (one 500-user batch per 50 s at 10 users/s) a batch lost the
 * race for over an hour, its queue age kept the queue-age guardrail tripped and the pace at
 * its floor. Ten milliseconds less per second queued, down to 0 after 100 s.
 */
export function parkDelayMs(waitMs: number, queuedForMs: number): number {
  const offset = Math.max(0, PARK_SPREAD_MS - Math.floor(Math.max(0, queuedForMs) / 100));
  return Math.max(1, Math.round(waitMs)) + offset;
}

@Injectable()
export class Pacer {
  constructor(private readonly redis: RedisService) {}

  /** Milliseconds to wait before admitting `users` at `limitPerSecond` (0 = unlimited). */
  async reserve(campaignId: bigint, users: number, limitPerSecond: number, maxWaitMs: number): Promise<number> {
    if (limitPerSecond <= 0 || users <= 0) return 0;
    const costMs = (users * 1000) / limitPerSecond;
    const wait = await this.redis.client.eval(RESERVE, 1, this.redis.key('pace', campaignId), Date.now(), costMs, maxWaitMs);
    return Number(wait);
  }
}
