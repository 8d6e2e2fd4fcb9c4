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
