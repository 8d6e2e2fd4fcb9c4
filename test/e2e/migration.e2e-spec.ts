import type { INestApplicationContext } from '@nestjs/common';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, backendProbe, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 100_000;

describe('migration engine end to end: 100k users, transient and permanent backend failures', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let probe: ReturnType<typeof backendProbe>;

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '2',
      BACKEND_SIM_TRANSIENT_FAILURE_RATIO: '0.05',
      BACKEND_SIM_PERMANENT_FAILURE_RATIO: '0.01',
      MIGRATION_BATCH_SIZE: '2000',
      MIGRATION_MAX_ATTEMPTS: '4',
      MIGRATION_RETRY_BACKOFF_MS: '50',
      MIGRATION_PLANNER_INTERVAL_MS: '500',
      WORKER_CONCURRENCY: '4',
      DATABASE_POOL_SIZE: '8',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    probe = backendProbe(env);
    await db.seedUsers(USERS);
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await probe?.close();
    await db?.close();
    await api?.close();
  });

  it('moves every admitted user to enabled or failed with a reason, counters equal truth, one effect per key', async () => {
    await createFlag(api, 'e2ee-default', 1_000_000);
    const c = await createCampaign(api, { key: 'messenger-1to1', name: 'Messenger 1:1', flag: 'e2ee-default' });
    expect((await act(api, c.id, 'start')).status).toBe(200);

    const done = await waitFor(
      'all admitted users to settle',
      () => db.counters(c.id),
      (k) => k.legacy === 0 && k.eligible === 0 && k.enrolling === 0 && k.enabled + k.failed + k.ineligible === USERS,
      180_000,
      500,
    );
    const truth = await db.truth(c.id);
    expect({ ...truth }).toEqual(Object.fromEntries(Object.entries({ ineligible: done.ineligible, enabled: done.enabled, failed: done.failed }).filter(([, v]) => v > 0)));
    expect(done.ineligible).toBe(Math.floor(USERS / 33));
    expect(done.failed).toBeGreaterThan(0);
    expect(done.recovery_prompted).toBe(done.enabled);

    const failedWithoutReason = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state IN ('failed','ineligible') AND last_error IS NULL`, [c.id]);
    expect(failedWithoutReason[0].n).toBe(0);
    const notPrompted = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' AND (recovery_state <> 'prompted' OR enabled_at IS NULL)`, [c.id]);
    expect(notPrompted[0].n).toBe(0);

    const keys = await probe.backend.effectKeys();
    expect(keys.length).toBe(done.enabled);
    const enabledIds = new Set((await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled'`, [c.id])).map((r) => r.id));
    expect(keys.every((k) => k.startsWith(`${c.id}:`) && enabledIds.has(k.slice(c.id.length + 1)))).toBe(true);

    const batches = await db.query(`SELECT status::text AS status, count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 GROUP BY 1`, [c.id]);
    expect(batches).toEqual([{ status: 'done', n: expect.any(Number) }]);
  }, 240_000);
});
