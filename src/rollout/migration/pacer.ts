import { Injectable } from '@nestjs/common';
import { RedisService } from '../../core/redis/redis.service';

/**
 * Reserves admission time for a campaign across every worker: each batch of n users takes
 * n / limit seconds of a shared timeline kept in Redis. The answer is how long to wait before
 * claiming. A batch whose slot is more than `maxWait` away keeps a ticket for it (the job is
 * parked until then); when it asks again it gets its ticket's slot, not a new one. So slots go
 * to batches in the order they first asked: without tickets every parked job would race for
 * each freed slot, and at a low pace one batch could wait indefinitely (and its age keep the
 * queue-age guardrail tripped).
 *
 * KEYS[1] the campaign's timeline, KEYS[2] the batch's ticket: one key group (one cluster slot) per campaign.
 */
const RESERVE = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
local ticket = redis.call('GET', KEYS[2])
if ticket then
  local wait = tonumber(ticket) - now
  if wait <= maxWait then redis.call('DEL', KEYS[2]) end
  if wait < 0 then return 0 end
  return wait
end
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextFree < now then nextFree = now end
local wait = nextFree - now
redis.call('SET', KEYS[1], tostring(nextFree + cost), 'PX', math.floor(wait + cost + 60000))
if wait > maxWait then redis.call('SET', KEYS[2], tostring(nextFree), 'PX', math.floor(wait + 3600000)) end
return wait`;

/**
 * Gives back the unused part of a reservation (a batch carried fewer users than it reserved
 * for): the timeline's end moves back by that much, never before now. KEYS[1] the timeline.
 */
const REFUND = `
local now = tonumber(ARGV[1])
local refund = tonumber(ARGV[2])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextFree <= now then return 0 end
local back = nextFree - refund
if back < now then back = now end
redis.call('SET', KEYS[1], tostring(back), 'PX', math.floor(back - now + 60000))
return nextFree - back`;

/**
 * The timeline runs on wall time, not the injected Clock: pace is a rate against the real
 * backend, and the Clock may be held still or moved by hand (ramp tests and simulations bind
 * it to a fake one). On a held clock every wait above the park limit would come back unchanged
 * each time the batch asked again, and the batch would stay queued for good.
 */
@Injectable()
export class Pacer {
  constructor(private readonly redis: RedisService) {}

  /**
   * Milliseconds to wait before admitting `users` of batch `batchId` at `limitPerSecond`
   * (0 = unlimited). Above `maxWaitMs` the caller parks the job for that long and asks again.
   */
  async reserve(campaignId: bigint, batchId: bigint, users: number, limitPerSecond: number, maxWaitMs: number, nowMs = this.nowMs()): Promise<number> {
    if (limitPerSecond <= 0 || users <= 0) return 0;
    const costMs = (users * 1000) / limitPerSecond;
    const wait = await this.redis.client.eval(RESERVE, 2, this.redis.groupKey(['pace', campaignId]), this.redis.groupKey(['pace', campaignId], 'ticket', batchId), nowMs, costMs, maxWaitMs);
    return Number(wait);
  }

  /** After the claim: `unusedUsers` of a reservation were not carried; their time goes back to the timeline. */
  async refund(campaignId: bigint, unusedUsers: number, limitPerSecond: number, nowMs = this.nowMs()): Promise<void> {
    if (limitPerSecond <= 0 || unusedUsers <= 0) return;
    await this.redis.client.eval(REFUND, 1, this.redis.key('pace', campaignId), nowMs, (unusedUsers * 1000) / limitPerSecond);
  }

  /** The wait `reserve` asked for, on the timeline's time. */
  sleep(ms: number): Promise<void> {
    return new Promise((ok) => setTimeout(ok, ms));
  }

  protected nowMs(): number {
    return Date.now();
  }
}
