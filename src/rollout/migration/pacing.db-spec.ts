import { Redis } from 'ioredis';
import type { AppConfig } from '../../config/config.schema';
import { FakeClock } from '../../core/clock/clock';
import { PrismaService } from '../../core/database/prisma.service';
import type { JobsService } from '../../core/queue/jobs.service';
import { deleteRedisPrefix } from '../../core/redis/delete-prefix';
import { RedisService } from '../../core/redis/redis.service';
import type { RatchetService } from '../../flags/ratchet.service';
import { createTestDatabase, redisUrl, testRedisPrefix } from '../../../test/support/test-env';
import { SimulatedBackend } from './backend/simulated-backend';
import { BatchesRepository } from './batches.repository';
import { MigratorService, RetryPendingError } from './migrator.service';
import { Pacer } from './pacer';

const USERS = 12_000;
const BATCH = 1_000;
const LIMIT = 400;
const TRANSIENT = 0.03;

class Parked extends Error {}

/** The real Redis timeline, read on a fake clock: a wait moves the clock instead of the test. */
class FakeTimePacer extends Pacer {
  constructor(
    redis: RedisService,
    private readonly clock: FakeClock,
  ) {
    super(redis);
  }
  protected override nowMs(): number {
    return this.clock.nowMs();
  }
  override async sleep(ms: number): Promise<void> {
    this.clock.advance(ms);
    await Promise.resolve();
  }
}

/** A deterministic stream of [0, 1) numbers (the backend's transient failures). */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/**
 * Pacing delivers the configured rate (real PostgreSQL and Redis, fake clock): one worker slot
 * migrates range batches through the real claim, record and pace timeline while 3% of the
 * backend's answers are transient failures. Every user the campaign's timeline holds time for
 * is a user that was claimed, so the users enabled per second of timeline stay within 5% of
 * maxUsersPerSecond; retry batches of a few dozen users no longer reserve a whole batchSize.
 */
describe('pacing under transient failures (real PostgreSQL and Redis, fake clock)', () => {
  const prefix = testRedisPrefix();
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  let redis: RedisService;
  let backendRedis: Redis;
  let campaignId: bigint;
  const sql = <T = Record<string, unknown>>(text: string, ...params: unknown[]) => prisma.client.$queryRawUnsafe<T[]>(text, ...params);

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ database: { url: db.url, poolSize: 4 } } as AppConfig);
    redis = new RedisService({ redis: { url: redisUrl(), prefix } } as AppConfig);
    backendRedis = new Redis(redisUrl());
    await sql(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt, version) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's', 1)`);
    const pacing = { batchSize: BATCH, maxUsersPerSecond: LIMIT, concurrency: 1, maxAttempts: 20, backlogBatches: 8 };
    const [c] = await sql<{ id: bigint }>(
      `INSERT INTO campaigns (key, name, flag_id, status, pacing, planned_ppm, current_step) SELECT 'c', 'c', id, 'running', $1::jsonb, 1000000, 0 FROM flags RETURNING id`,
      JSON.stringify(pacing),
    );
    campaignId = c.id;
    await sql(`INSERT INTO progress_counters (campaign_id, shard) SELECT $1, s FROM generate_series(0, 15) s`, campaignId);
    await sql(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) SELECT g, 'DE', 'ios', '1.0.0', true FROM generate_series(1, $1::int) g`, USERS);
    await sql(`INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable) SELECT $1, g, g * 80, true FROM generate_series(1, $2::int) g`, campaignId, USERS);
    await sql(`UPDATE progress_counters SET legacy = $2 WHERE campaign_id = $1 AND shard = 0`, campaignId, USERS);
    await sql(`ANALYZE user_migrations`);
  });
  afterAll(async () => {
    backendRedis.disconnect();
    await redis.onModuleDestroy();
    await prisma.onModuleDestroy();
    await deleteRedisPrefix(redisUrl(), prefix);
    await db.drop();
  });

  it('enables users at 95-100% of maxUsersPerSecond with 3% transient failures', async () => {
    const clock = new FakeClock(1_000_000_000);
    const t0 = clock.nowMs();
    const backend = new SimulatedBackend(backendRedis, { latencyMs: 0, transientFailureRatio: TRANSIENT, permanentFailureRatio: 0, maxUsersPerSecond: 0, keyPrefix: `${prefix}:sim`, random: seeded(7) });
    // the ratchet and the planner's refill job are not what is measured here
    const ratchet = { recordEnabled: async () => undefined } as unknown as RatchetService;
    const jobs = { add: async () => undefined } as unknown as JobsService;
    const config = { migration: { plannerIntervalMs: 1000, leaseMs: 60_000 } } as AppConfig;
    const migrator = new MigratorService(new BatchesRepository(prisma), backend, ratchet, new FakeTimePacer(redis, clock), jobs, config);

    const ranges = Array.from({ length: USERS / BATCH }, (_, i) => [i * BATCH * 80 + 1, (i + 1) * BATCH * 80 + 1]);
    const batches = await sql<{ id: bigint }>(
      `INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket) SELECT $1, f, t FROM unnest($2::int[], $3::int[]) AS x(f, t) RETURNING id`,
      campaignId,
      ranges.map((r) => r[0]),
      ranges.map((r) => r[1]),
    );
    // one worker slot: a parked job waits (the clock moves) and goes to the back of the queue;
    // a job with transient failures is retried (BullMQ's backoff takes no pace)
    const queue = batches.map((b) => b.id);
    let retries = 0;
    for (let runs = 0; queue.length > 0 && runs < 1_000; runs++) {
      const batchId = queue.shift()!;
      const park = async (ms: number): Promise<never> => {
        clock.advance(ms);
        throw new Parked();
      };
      await migrator.migrateBatch({ campaignId, batchId }, { park }).catch((err: unknown) => {
        if (!(err instanceof Parked) && !(err instanceof RetryPendingError)) throw err;
        if (err instanceof RetryPendingError) retries++;
        queue.push(batchId);
      });
    }

    const [k] = await sql<{ enabled: number; other: number }>(
      `SELECT count(*) FILTER (WHERE state = 'enabled')::int AS enabled, count(*) FILTER (WHERE state <> 'enabled')::int AS other FROM user_migrations WHERE campaign_id = $1`,
      campaignId,
    );
    expect(k).toEqual({ enabled: USERS, other: 0 });
    expect(retries).toBeGreaterThan(0);
    // the campaign's timeline ends where the last reservation ends: that is the time the users took
    const timelineEnd = Math.max(clock.nowMs(), Number(await redis.client.get(redis.key('pace', campaignId))));
    const achieved = USERS / ((timelineEnd - t0) / 1000);
    expect(achieved).toBeGreaterThanOrEqual(0.95 * LIMIT);
    expect(achieved).toBeLessThanOrEqual(LIMIT * 1.0001);
  }, 120_000);
});
