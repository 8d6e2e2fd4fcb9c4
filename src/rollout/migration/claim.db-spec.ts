import type { AppConfig } from '../../config/config.schema';
import { PrismaService } from '../../core/database/prisma.service';
import { createTestDatabase } from '../../../test/support/test-env';
import { Client } from 'pg';
import { LOCK_TIMEOUT, hasCode } from '../../core/errors/error-chain';
import { BatchesRepository, type BatchRow } from './batches.repository';
import { readCounters } from './counters';
import { INELIGIBLE_REASON } from './planner.repository';

/**
 * The claim of a range batch admits as it claims (real PostgreSQL): legacy users below the
 * planning ceiling become `enrolling` (capable) or `ineligible` (not capable), eligible users
 * (retries) are taken too, and nothing else moves; counters follow in the same statement.
 */
describe('BatchesRepository.claim of a range batch (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaService;
  let repo: BatchesRepository;
  let campaignId: bigint;
  const sql = <T = Record<string, unknown>>(text: string, ...params: unknown[]) => prisma.client.$queryRawUnsafe<T[]>(text, ...params);

  // users 1..12, bucket = id * 10: 1-8 capable, 9-10 not capable, 11 held, 12 enabled (the
  // rows carry the copy of the capability that materialisation writes).
  // users 1-10 are legacy, except user 3 (eligible: a retry) and user 4 (failed).
  beforeAll(async () => {
    db = await createTestDatabase();
    prisma = new PrismaService({ database: { url: db.url, poolSize: 4 } } as AppConfig);
    repo = new BatchesRepository(prisma);
    await sql(`INSERT INTO flags (key, kind, variants, off_variant, rollout_variant, salt, version) VALUES ('f', 'boolean', '{"on":true,"off":false}', 'off', 'on', 's', 7)`);
    const [c] = await sql<{ id: bigint }>(
      `INSERT INTO campaigns (key, name, flag_id, status, pacing, planned_ppm, current_step) SELECT 'c', 'c', id, 'running', '{}', 75, 2 FROM flags RETURNING id`,
    );
    campaignId = c.id;
    await sql(`INSERT INTO progress_counters (campaign_id, shard) SELECT $1, s FROM generate_series(0, 15) s`, campaignId);
    await sql(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) SELECT g, 'DE', 'ios', '1.0.0', g <= 8 OR g >= 11 FROM generate_series(1, 12) g`);
    await sql(
      `INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable, state, attempts)
       SELECT $1, g, g * 10, g <= 8 OR g >= 11, (CASE g WHEN 3 THEN 'eligible' WHEN 4 THEN 'failed' WHEN 11 THEN 'held' WHEN 12 THEN 'enabled' ELSE 'legacy' END)::migration_state,
              CASE g WHEN 3 THEN 1 ELSE 0 END
       FROM generate_series(1, 12) g`,
      campaignId,
    );
    // counters as the table says
    await sql(`UPDATE progress_counters SET legacy = 8, eligible = 1, failed = 1, held = 1, enabled = 1 WHERE campaign_id = $1 AND shard = 0`, campaignId);
  });
  afterAll(async () => {
    await prisma.onModuleDestroy();
    await db.drop();
  });

  const batch = async (from: number, to: number): Promise<BatchRow> => {
    const [b] = await sql<{ id: bigint }>(`INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket) VALUES ($1, $2, $3) RETURNING id`, campaignId, from, to);
    return { id: b.id, campaignId, fromBucket: from, toBucket: to, userIds: [], status: 'queued' };
  };
  const states = async () =>
    Object.fromEntries(
      (await sql<{ user_id: bigint; state: string }>(`SELECT user_id, state::text AS state FROM user_migrations WHERE campaign_id = $1 ORDER BY user_id`, campaignId)).map((r) => [
        Number(r.user_id),
        r.state,
      ]),
    );

  it('does nothing while the campaign is not running', async () => {
    await sql(`UPDATE campaigns SET status = 'paused' WHERE id = $1`, campaignId);
    expect(await repo.claim(await batch(0, 1000), 60_000)).toEqual([]);
    expect((await states())[1]).toBe('legacy');
    await sql(`UPDATE campaigns SET status = 'running' WHERE id = $1`, campaignId);
  });

  it('admits and claims below the ceiling, marks the incapable ineligible, takes retries, leaves the rest', async () => {
    const b = await batch(0, 1000);
    const claimed = await repo.claim(b, 60_000);
    // ceiling 75 ppm: users 1-7 (buckets 10-70); 3 is a retry; 4 failed; 8+ are above it
    expect(claimed.map((u) => Number(u.userId)).sort((x, y) => x - y)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(claimed.find((u) => u.userId === 3n)).toMatchObject({ bucket: 30, attempts: 2 });
    expect(claimed.find((u) => u.userId === 1n)).toMatchObject({ bucket: 10, attempts: 1 });
    expect(await states()).toEqual({ 1: 'enrolling', 2: 'enrolling', 3: 'enrolling', 4: 'failed', 5: 'enrolling', 6: 'enrolling', 7: 'enrolling', 8: 'legacy', 9: 'legacy', 10: 'legacy', 11: 'held', 12: 'enabled' });
    const [admitted] = await sql<{ enrolled_via: string; enrolled_step: number; flag_version: number; lease: boolean; admitted: boolean }>(
      `SELECT enrolled_via::text, enrolled_step, flag_version, lease_until > now() AS lease, admitted_at IS NOT NULL AS admitted FROM user_migrations WHERE campaign_id = $1 AND user_id = 1`,
      campaignId,
    );
    expect(admitted).toEqual({ enrolled_via: 'ramp', enrolled_step: 2, flag_version: 7, lease: true, admitted: true });
    const [row] = await sql<{ status: string; claimed: number }>(`SELECT status::text, claimed FROM migration_batches WHERE id = $1`, b.id);
    expect(row).toEqual({ status: 'running', claimed: 6 });
    expect(await readCounters(prisma.client, campaignId)).toMatchObject({ legacy: 3, eligible: 0, enrolling: 6, failed: 1, held: 1, enabled: 1, ineligible: 0 });

    // the ceiling rises: the incapable become ineligible with the reason, and are not returned
    await sql(`UPDATE campaigns SET planned_ppm = 1000 WHERE id = $1`, campaignId);
    const more = await repo.claim(await batch(0, 1000), 60_000);
    expect(more.map((u) => Number(u.userId))).toEqual([8]);
    const ineligible = await sql<{ user_id: bigint; last_error: string }>(
      `SELECT user_id, last_error FROM user_migrations WHERE campaign_id = $1 AND state = 'ineligible' ORDER BY user_id`,
      campaignId,
    );
    expect(ineligible.map((r) => [Number(r.user_id), r.last_error])).toEqual([
      [9, INELIGIBLE_REASON],
      [10, INELIGIBLE_REASON],
    ]);
    expect(await readCounters(prisma.client, campaignId)).toMatchObject({ legacy: 0, eligible: 0, enrolling: 7, ineligible: 2, failed: 1, held: 1, enabled: 1 });
    const truth = await sql<{ state: string; n: number }>(`SELECT state::text, count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 GROUP BY state`, campaignId);
    expect(Object.fromEntries(truth.map((r) => [r.state, r.n]))).toEqual({ enrolling: 7, ineligible: 2, failed: 1, held: 1, enabled: 1 });

    // claiming again finds nothing: every user was taken exactly once
    expect(await repo.claim(await batch(0, 1000), 60_000)).toEqual([]);
  });

  it('gives up on rows another transaction holds (lock timeout), writes nothing and keeps no lock on the campaign', async () => {
    await sql(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) VALUES (13, 'DE', 'ios', '1.0.0', true)`);
    await sql(`INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable) VALUES ($1, 13, 130, true)`, campaignId);
    await sql(`UPDATE progress_counters SET legacy = legacy + 1 WHERE campaign_id = $1 AND shard = 0`, campaignId);
    // a long statement elsewhere (a hold over many users, say) holds user 13's row
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM user_migrations WHERE campaign_id = $1 AND user_id = 13 FOR UPDATE`, [campaignId]);
      const b = await batch(0, 1000);
      const err = await repo.claim(b, 60_000).then(() => null, (e: unknown) => e);
      expect(hasCode(err, LOCK_TIMEOUT)).toBe(true);
      expect((await states())[13]).toBe('legacy');
      const [row] = await sql<{ status: string }>(`SELECT status::text FROM migration_batches WHERE id = $1`, b.id);
      expect(row.status).toBe('queued');
      // the campaign row is free: a halt would not wait for this claim
      const halt = new Client({ connectionString: db.url });
      await halt.connect();
      await halt.query(`SET lock_timeout = '500ms'`);
      await expect(halt.query(`UPDATE campaigns SET name = name WHERE id = $1`, [campaignId])).resolves.toMatchObject({ rowCount: 1 });
      await halt.end();
      await holder.query('ROLLBACK');
      // once the row is free, the same batch claims it
      expect((await repo.claim(b, 60_000)).map((u) => Number(u.userId))).toEqual([13]);
    } finally {
      await holder.end();
    }
  });

  it('reads users for a row whose copy is still NULL (before the data backfill reached it)', async () => {
    await sql(`INSERT INTO users (id, country, platform, app_version, e2ee_capable) VALUES (14, 'DE', 'ios', '1.0.0', true), (15, 'DE', 'ios', '1.0.0', false)`);
    await sql(`INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable) VALUES ($1, 14, 140, NULL), ($1, 15, 150, NULL)`, campaignId);
    await sql(`UPDATE progress_counters SET legacy = legacy + 2 WHERE campaign_id = $1 AND shard = 0`, campaignId);
    expect((await repo.claim(await batch(0, 1000), 60_000)).map((u) => Number(u.userId))).toEqual([14]);
    expect(await states()).toMatchObject({ 14: 'enrolling', 15: 'ineligible' });
  });
});
