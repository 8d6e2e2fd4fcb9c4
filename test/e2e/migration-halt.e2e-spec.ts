import type { INestApplicationContext } from '@nestjs/common';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, backendProbe, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 20_000;

describe('halt mid-run: nobody is enabled after the halt commit except by calls already in flight', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let probe: ReturnType<typeof backendProbe>;

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_SIM_LATENCY_MS: '150',
      MIGRATION_BATCH_SIZE: '250',
      MIGRATION_BACKLOG_BATCHES: '12',
      WORKER_CONCURRENCY: '6',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    probe = backendProbe(env);
    await db.seedUsers(USERS);
    await createFlag(api, 'halt-flag', 1_000_000);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await probe?.close();
    await db?.close();
    await api?.close();
  });

  it('drops queued work, lets in-flight calls commit, measures halt → last commit, and resumes without loss', async () => {
    const c = await createCampaign(api, { key: 'halt-me', name: 'Halt me', flag: 'halt-flag' });
    await act(api, c.id, 'start');
    await waitFor('users to move', () => db.counters(c.id), (k) => k.enabled > 1500, 120_000, 50);
    await waitFor('calls in flight', () => db.counters(c.id), (k) => k.enrolling > 0, 30_000, 5);

    const halted = await act(api, c.id, 'halt', { reason: 'guardrail: error spike' });
    expect(halted.status).toBe(200);
    const haltedAt = new Date(halted.body.haltedAt);
    const audit = await api.request('GET', `/api/v1/audit?action=campaign.halted&entityId=${c.id}`);
    const inFlight: string[] = audit.body.items[0].after.inFlightBatches;
    expect(audit.body.items[0].after.droppedBatches).toBeGreaterThan(0);

    await waitFor('in-flight calls to finish', () => db.counters(c.id), (k) => k.enrolling === 0, 30_000, 50);
    await sleep(1000);

    const claimedAfterHalt = await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND started_at > $2`, [c.id, haltedAt]);
    expect(claimedAfterHalt[0].n).toBe(0);
    const queued = await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status IN ('queued', 'running')`, [c.id]);
    expect(queued[0].n).toBe(0);

    // every user enabled after the halt was claimed before it: by a batch whose last claim
    // (started_at) precedes the halt — claims take FOR SHARE on the campaign row, so each
    // claim commits before the halt commits or claims nothing
    const late = await db.query<{ user_id: string; bucket: number; enabled_at: Date }>(
      `SELECT user_id::text, bucket, enabled_at FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' AND enabled_at > $2`,
      [c.id, haltedAt],
    );
    const batches = await db.query<{ id: string; from_bucket: number; to_bucket: number; user_ids: string[] }>(
      `SELECT id::text, from_bucket, to_bucket, user_ids::text[] FROM migration_batches WHERE campaign_id = $1 AND started_at <= $2 AND (finished_at IS NULL OR finished_at >= $2)`,
      [c.id, haltedAt],
    );
    expect(inFlight.every((id) => batches.some((b) => b.id === id))).toBe(true);
    const covered = (u: { user_id: string; bucket: number }) =>
      batches.some((b) => (b.user_ids.length > 0 ? b.user_ids.includes(u.user_id) : u.bucket >= b.from_bucket && u.bucket < b.to_bucket));
    expect(late.filter((u) => !covered(u))).toEqual([]);

    const after = await api.request('GET', `/api/v1/campaigns/${c.id}`);
    expect(after.body.haltToLastCommitMs).toEqual(expect.any(Number));
    if (late.length > 0) {
      const lastMs = Math.max(...late.map((u) => u.enabled_at.getTime())) - haltedAt.getTime();
      if (after.body.haltToLastCommitMs > 0) {
        expect(after.body.haltToLastCommitMs).toBeGreaterThanOrEqual(lastMs - 5);
        expect(after.body.haltToLastCommitMs).toBeLessThan(lastMs + 1000);
      } else {
        // recorded while the halt transaction was still open (its halted_at is taken before
        // it commits): those commits precede the halt commit, so nothing is measured after it
        expect(lastMs).toBeLessThan(1000);
      }
    }
    const frozen = (await db.counters(c.id)).enabled;
    await sleep(1000);
    expect((await db.counters(c.id)).enabled).toBe(frozen);

    await act(api, c.id, 'resume');
    const done = await waitFor('the rest to move after resume', () => db.counters(c.id), (k) => k.enabled + k.ineligible === USERS, 180_000, 250);
    expect(done.eligible + done.enrolling + done.failed + done.legacy).toBe(0);
    expect(await probe.backend.effectCount()).toBe(done.enabled);
    const truth = await db.truth(c.id);
    expect(truth).toEqual({ enabled: done.enabled, ineligible: done.ineligible });
  }, 300_000);
});
