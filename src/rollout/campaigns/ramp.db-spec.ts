import type { AppConfig } from '../../config/config.schema';
import { PrismaService } from '../../core/database/prisma.service';
import { createTestDatabase } from '../../../test/support/test-env';
import { RampRepository } from './ramp.repository';

describe('RampRepository (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  let repo: RampRepository;
  let campaignId: bigint;
  const sql = (q: string, ...params: unknown[]) => prisma.client.$executeRawUnsafe(q, ...params);
  const counters = async () => {
    const [r] = await prisma.client.$queryRawUnsafe<Array<Record<string, bigint>>>(
      `SELECT sum(legacy) AS legacy, sum(eligible) AS eligible, sum(ineligible) AS ineligible, sum(enrolling) AS enrolling, sum(enabled) AS enabled, sum(failed) AS failed
       FROM progress_counters WHERE campaign_id = $1`,
      campaignId,
    );
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ database: { url: db.url, poolSize: 4 } } as AppConfig);
    repo = new RampRepository(prisma);
    await sql(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's')`);
    const [c] = await prisma.client.$queryRawUnsafe<Array<{ id: bigint }>>(
      `INSERT INTO campaigns (key, name, flag_id, status, pacing, ramp_plan, current_step, planned_ppm)
       SELECT 'c', 'C', id, 'running', '{"batchSize":100,"maxUsersPerSecond":0,"concurrency":1,"maxAttempts":3,"backlogBatches":4}',
              '[{"ppm":1000,"holdMinutes":1},{"ppm":500000,"holdMinutes":1,"pointOfNoReturn":true}]', 1, 500000 FROM flags RETURNING id`,
    );
    campaignId = c.id;
    await sql(`INSERT INTO progress_counters (campaign_id, shard) SELECT $1, s FROM generate_series(0, 15) s`, campaignId);
  });
  afterAll(async () => {
    await prisma.onModuleDestroy();
    await db.drop();
  });

  it('window: batches finished in the window or still retried since it began; p95 of backend time; since cuts older ones', async () => {
    await sql(`DELETE FROM migration_batches`);
    const batch = (status: string, agoSeconds: number, enabled: number, failed: number, retried: number, backendMs: number | null) =>
      sql(
        `INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, status, queued_at, started_at, finished_at, claimed, enabled, failed, retried, backend_ms)
         VALUES ($1, 0, 1, $2::batch_status, now() - make_interval(secs => $3::int + 5), now() - make_interval(secs => $3::int),
                 CASE WHEN $2::text IN ('done', 'dropped') THEN now() - make_interval(secs => $3::int) END, $4::int + $5::int + $6::int, $4::int, $5::int, $6::int, $7::int)`,
        campaignId, status, agoSeconds, enabled, failed, retried, backendMs,
      );
    for (let i = 1; i <= 20; i++) await batch('done', 10, 90, 10, 0, i * 10);
    await batch('queued', 20, 50, 0, 50, 5);
    await batch('done', 600, 1000, 1000, 0, 99_999);
    const w = await repo.window(campaignId, 300, null);
    expect(w).toEqual({ enabled: 20 * 90 + 50, failed: 200, retried: 50, outcomes: 20 * 100 + 100, batches: 21, backendP95Ms: 190 }); // percentile_cont over 5, 10, 20, …, 200: position 0.95 × 20 = 19 → 190
    const since = new Date((await repo.dbNow()).getTime() - 15_000);
    expect((await repo.window(campaignId, 300, since)).batches).toBe(20);
    expect((await repo.window(campaignId, 3600, null)).failed).toBe(1200);

    const b = await repo.backlog(campaignId);
    expect(b).toMatchObject({ queued: 1, running: 0, backlogBatches: 1 });
    expect(b.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(24);
  });

  it('changeStep: of two changes from the same step and version exactly one wins', async () => {
    const c = (await repo.find(campaignId))!;
    const change = (to: number) =>
      prisma.transaction((tx) => repo.changeStep({ id: campaignId, fromStep: c.currentStep, toStep: to, expectedVersion: c.version, enteredAt: new Date(), statuses: ['running'] }, tx));
    const results = await Promise.all([change(0), change(0), change(0)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const after = (await repo.find(campaignId))!;
    expect(after).toMatchObject({ currentStep: 0, version: c.version + 1 });
    await prisma.transaction((tx) => repo.changeStep({ id: campaignId, fromStep: 0, toStep: 1, expectedVersion: after.version, enteredAt: new Date(), statuses: ['running'] }, tx));
  });

  it('casObserved writes only over the state it read', async () => {
    const c = (await repo.find(campaignId))!;
    const next = { healthy: true, trips: [], evaluatedAt: 'x' };
    expect(await repo.casObserved(campaignId, c.guardrailState, next, 77, prisma.client)).toBe(true);
    expect(await repo.casObserved(campaignId, c.guardrailState, { ...next, evaluatedAt: 'y' }, 1, prisma.client)).toBe(false);
    expect((await repo.find(campaignId))!).toMatchObject({ guardrailState: next, paceUsersPerSecond: 77, version: c.version });
  });

  it('lowerCeiling demotes only ramp-admitted users nobody claimed, above the ceiling, with counters; a wrong step does nothing', async () => {
    await sql(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) SELECT g, 'US', 'ios', '1', true FROM generate_series(1, 12) g`);
    const rows: Array<[number, number, string, string | null]> = [
      [1, 500, 'eligible', 'ramp'], // below the ceiling: stays
      [2, 5_000, 'eligible', 'ramp'], // demoted
      [3, 6_000, 'ineligible', 'ramp'], // demoted
      [4, 7_000, 'enrolling', 'ramp'], // in flight: stays
      [5, 8_000, 'enabled', 'ramp'], // enabled: never touched
      [6, 9_000, 'failed', 'ramp'], // claimed before: stays
      [7, 10_000, 'eligible', 'opt_in'], // opt-in: stays
      [8, 11_000, 'held', 'ramp'], // held: stays
      [9, 600_000, 'legacy', null], // above planned: untouched
    ];
    for (const [id, bucket, state, via] of rows) {
      await sql(`INSERT INTO user_migrations (campaign_id, user_id, bucket, state, enrolled_via, enrolled_step, admitted_at) VALUES ($1, $2, $3, $4::migration_state, $5::enrolled_via, 1, now())`, campaignId, id, bucket, state, via);
    }
    const k0 = { legacy: 1, eligible: 3, ineligible: 1, enrolling: 1, enabled: 1, failed: 1 };
    await sql(`UPDATE progress_counters SET legacy = $2, eligible = $3, ineligible = $4, enrolling = $5, enabled = $6, failed = $7 WHERE campaign_id = $1 AND shard = 0`, campaignId, ...Object.values(k0));

    expect(await prisma.transaction((tx) => repo.lowerCeiling(campaignId, 1000, tx, 0))).toBeNull();
    const r = await prisma.transaction((tx) => repo.lowerCeiling(campaignId, 1000, tx, 1));
    expect(r).toEqual({ demotedEligible: 1, demotedIneligible: 1, plannedFrom: 500_000 });
    const states = await prisma.client.$queryRawUnsafe<Array<{ id: bigint; state: string; via: string | null }>>(
      `SELECT user_id AS id, state::text AS state, enrolled_via::text AS via FROM user_migrations WHERE campaign_id = $1 ORDER BY user_id`,
      campaignId,
    );
    expect(states.map((s) => [Number(s.id), s.state, s.via])).toEqual([
      [1, 'eligible', 'ramp'], [2, 'legacy', null], [3, 'legacy', null], [4, 'enrolling', 'ramp'], [5, 'enabled', 'ramp'],
      [6, 'failed', 'ramp'], [7, 'eligible', 'opt_in'], [8, 'held', 'ramp'], [9, 'legacy', null],
    ]);
    expect(await counters()).toEqual({ ...k0, legacy: 3, eligible: 2, ineligible: 0 });
    expect((await repo.find(campaignId))!.plannedPpm).toBe(1000);
  });
});
