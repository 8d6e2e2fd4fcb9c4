import type { INestApplicationContext } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { testQueue } from '../support/test-env';
import { batchJobId } from '../../src/rollout/campaigns/campaign-jobs';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 300;

/**
 * A batch whose BullMQ job failed for good (attempts exhausted before any claim) must not
 * strand its users: the planner's upkeep queues the batch again under a new job id.
 */
describe('a batch whose job failed for good', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let queue: Queue;

  beforeAll(async () => {
    env = await createTestEnvironment({ MIGRATION_PLANNER_INTERVAL_MS: '300', BACKEND_SIM_LATENCY_MS: '0' });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    queue = testQueue('migration', env.config.redis.url, env.config.redis.prefix);
    await db.seedUsers(USERS);
    await createFlag(api, 'lost-job', 0);
  }, 60_000);
  afterAll(async () => {
    await queue?.close();
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('is queued again under a new job id and its users are migrated', async () => {
    const c = await createCampaign(api, { key: 'lost-job', name: 'lost job', flag: 'lost-job' });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitFor('materialised', () => db.query(`SELECT materialized_at FROM campaigns WHERE id = $1`, [c.id]), (r) => r[0].materialized_at !== null, 30_000);

    // the capable users admitted by hand (the flag stays at 0%, so the planner adds nothing)
    const admitted = await db.query<{ n: number }>(
      `WITH m AS (
         UPDATE user_migrations um SET state = 'eligible', admitted_at = now(), enrolled_via = 'ramp'
         FROM users u WHERE um.campaign_id = $1 AND u.id = um.user_id AND u.e2ee_capable RETURNING 1)
       SELECT count(*)::int AS n FROM m`,
      [c.id],
    );
    const n = admitted[0].n;
    await db.query(`UPDATE progress_counters SET legacy = legacy - $2, eligible = eligible + $2 WHERE campaign_id = $1 AND shard = 0`, [c.id, n]);

    // its job id is taken by a job that has failed for good before the batch row exists
    const [{ id }] = await db.query<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('migration_batches', 'id'))::text AS id`);
    const queuedAt = new Date('2026-01-01T00:00:00.000Z');
    const jobId = batchJobId(BigInt(c.id), BigInt(id), queuedAt.getTime());
    await queue.add('batch-migrate', { not: 'a batch job' }, { jobId, attempts: 1 });
    await waitFor('the job to fail', () => queue.getJobState(jobId), (s) => s === 'failed', 30_000);
    await db.query(`INSERT INTO migration_batches (id, campaign_id, from_bucket, to_bucket, queued_at) VALUES ($1, $2, 0, 1000000, $3)`, [id, c.id, queuedAt]);

    const done = await waitFor('the batch to be done', () => db.query(`SELECT status::text AS status, queued_at FROM migration_batches WHERE id = $1`, [id]), (r) => r[0].status === 'done', 60_000);
    expect(new Date(done[0].queued_at).getTime()).toBeGreaterThan(queuedAt.getTime());
    expect(await queue.getJobState(jobId)).toBe('failed');
    const truth = await db.truth(c.id);
    expect(truth.enabled).toBe(n);
    expect(truth.eligible ?? 0).toBe(0);
    expect(await db.counters(c.id)).toMatchObject({ enabled: n, eligible: 0, enrolling: 0 });
  }, 120_000);
});
