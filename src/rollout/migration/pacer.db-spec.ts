import type { AppConfig } from '../../config/config.schema';
import { deleteRedisPrefix } from '../../core/redis/delete-prefix';
import { RedisService } from '../../core/redis/redis.service';
import { redisUrl, testRedisPrefix } from '../../../test/support/test-env';
import { Pacer } from './pacer';

/** The shared admission timeline on the test Redis, with the clock passed in. */
describe('Pacer (real Redis)', () => {
  const prefix = testRedisPrefix();
  let redis: RedisService;
  let pacer: Pacer;
  const MAX_WAIT = 2_000;
  // 10 users/s: a 500-user batch costs 50 s of the timeline
  const reserve = (batchId: number, nowMs: number) => pacer.reserve(1n, BigInt(batchId), 500, 10, MAX_WAIT, nowMs);

  beforeAll(() => {
    redis = new RedisService({ redis: { url: redisUrl(), prefix } } as AppConfig);
    pacer = new Pacer(redis);
  });
  afterAll(async () => {
    await redis.onModuleDestroy();
    await deleteRedisPrefix(redisUrl(), prefix);
  });

  it('gives slots in the order batches first asked, however often the parked ones ask again', async () => {
    const t0 = 1_000_000_000;
    expect(await reserve(1, t0)).toBe(0);
    // batches 2, 3, 4 find the timeline busy: each keeps a ticket for its own slot
    expect(await reserve(2, t0 + 10)).toBe(50_000 - 10);
    expect(await reserve(3, t0 + 20)).toBe(100_000 - 20);
    expect(await reserve(4, t0 + 30)).toBe(150_000 - 30);
    // all three wake at once when the first slot frees (what parked jobs did): only batch 2 goes;
    // 4 and 3 are told to wait for their own slots, and take no new one
    const at = t0 + 50_000;
    expect(await reserve(4, at)).toBe(100_000);
    expect(await reserve(3, at)).toBe(50_000);
    expect(await reserve(2, at)).toBe(0);
    // a new batch queues behind every ticket
    expect(await reserve(5, at)).toBe(150_000);
    // batch 3 at its slot, then batch 4 a little late: no wait, in order
    expect(await reserve(3, t0 + 100_000)).toBe(0);
    expect(await reserve(4, t0 + 151_000)).toBe(0);
  });

  it('a batch that asks again after using its ticket gets a new slot (a retry is paced again)', async () => {
    const t0 = 2_000_000_000;
    expect(await reserve(10, t0)).toBe(0);
    expect(await reserve(11, t0)).toBe(50_000);
    expect(await reserve(11, t0 + 49_000)).toBe(1_000); // within the in-process wait: ticket used
    expect(await reserve(11, t0 + 60_000)).toBe(40_000); // a second run: behind batch 11's own slot
  });

  it('an unlimited pace or an empty batch waits for nothing', async () => {
    expect(await pacer.reserve(1n, 99n, 500, 0, MAX_WAIT)).toBe(0);
    expect(await pacer.reserve(1n, 99n, 0, 10, MAX_WAIT)).toBe(0);
  });
});
