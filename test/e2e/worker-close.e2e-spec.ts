import type { INestApplicationContext } from '@nestjs/common';
import { LogSink, createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 30_000;

/**
 * Closing the worker application (what SIGTERM does, and what an embedding process or a test
 * does) while batches are in flight and its small pool has queries waiting for a connection:
 * the queues drain first, with PostgreSQL and Redis still open, so the close returns, the
 * in-flight batches are recorded, and no user is left `enrolling`. Before WorkerDrain, Prisma
 * ended its pool first and a query queued for a connection waited forever (so did the close).
 */
describe('closing the worker mid-campaign', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let db: TestDb;
  const workers: INestApplicationContext[] = [];

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '150',
      MIGRATION_BATCH_SIZE: '300',
      MIGRATION_PLANNER_INTERVAL_MS: '100',
      MIGRATION_REAPER_INTERVAL_MS: '100',
      RAMP_TICK_INTERVAL_MS: '50',
      WORKER_CONCURRENCY: '6',
      DATABASE_POOL_SIZE: '2',
    });
    api = await startTestApi(env);
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await db?.close();
    await api?.close();
  });

  it('drains in-flight batches before closing PostgreSQL and Redis, every time', async () => {
    await createFlag(api, 'close-flag', 1_000_000);
    const c = await createCampaign(api, { key: 'close-me', name: 'Close me', flag: 'close-flag' });
    expect((await act(api, c.id, 'start')).status).toBe(200);

    let enabledBefore = 0;
    for (let round = 0; round < 4; round++) {
      const logs = new LogSink();
      const worker = await startTestWorker(env, logs);
      // wait until this worker has batches in flight
      await waitFor('batches in flight', () => db.counters(c.id), (k) => k.enrolling > 0 && k.enabled > enabledBefore, 60_000, 50);
      const closed = await Promise.race([worker.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still closing after 45 s'), 45_000).unref())]);
      expect(closed).toBe('closed');
      // nothing in flight met a closed PostgreSQL pool or Redis connection
      expect(logs.lines.filter((l) => /closed|Cannot use a pool|timeout exceeded/i.test(l))).toEqual([]);
      const k = await db.counters(c.id);
      expect(k.enrolling).toBe(0);
      const running = await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status = 'running'`, [c.id]);
      expect(running[0].n).toBe(0);
      expect(await db.truth(c.id)).toMatchObject({ enabled: k.enabled });
      enabledBefore = k.enabled;
    }

    // a last worker finishes the campaign: nothing was lost on the way
    workers.push(await startTestWorker(env));
    const done = await waitFor('the campaign to settle', () => db.counters(c.id), (k) => k.eligible === 0 && k.enrolling === 0 && k.legacy === 0, 180_000, 250);
    expect(done.enabled + done.failed + done.ineligible).toBe(USERS);
    expect(await db.truth(c.id)).toMatchObject({ enabled: done.enabled, ineligible: done.ineligible });
  }, 400_000);
});
