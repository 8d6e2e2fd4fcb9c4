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

@Injectable()
export class Pacer {
  constructor(private readonly redis: RedisService) {}

  /**
   * Milliseconds to wait before admitting `users` of batch `batchId` at `limitPerSecond`
   * (0 = unlimited). Above `maxWaitMs` the caller parks the job for that long and asks again.
   */
  async reserve(campaignId: bigint, batchId: bigint, users: number, limitPerSecond: number, maxWaitMs: number, nowMs = Date.now()): Promise<number> {
    if (limitPerSecond <= 0 || users <= 0) return 0;
    const costMs = (users * 1000) / limitPerSecond;
    const wait = await this.redis.client.eval(RESERVE, 2, this.redis.groupKey(['pace', campaignId]), this.redis.groupKey(['pace', campaignId], 'ticket', batchId), nowMs, costMs, maxWaitMs);
    return Number(wait);
  }
}
