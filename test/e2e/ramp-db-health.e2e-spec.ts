import type { INestApplicationContext } from '@nestjs/common';
import { DbHealthRepository } from '../../src/rollout/campaigns/db-health.repository';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, rampOf, setPlan, waitRampWait } from './ramp.helpers';

/**
 * Database-health indicators against the real PostgreSQL, nothing faked: a transaction left
 * open in the campaign's database (its xmin holds back vacuum) holds the ramp with the
 * indicator named in the waiting reason; once it commits, the ramp moves on.
 */
describe('database-health guardrails', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let holder: TestDb;

  beforeAll(async () => {
    env = await createTestEnvironment({ RAMP_TICK_INTERVAL_MS: '150', MIGRATION_PLANNER_INTERVAL_MS: '300', BACKEND_KIND: 'simulated', BACKEND_SIM_LATENCY_MS: '1' });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    holder = await TestDb.connect(env);
    await db.seedUsers(300);
  }, 90_000);

  afterAll(async () => {
    await holder?.close();
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('an open transaction with an old xmin holds the ramp, named; committing it lets the ramp advance', async () => {
    await createFlag(api, 'dbh-flag', 0);
    const c = await createCampaign(api, { key: 'dbh', name: 'DB health', flag: 'dbh-flag' });
    await setPlan(api, c.id, {
      steps: [{ percent: 1, holdSeconds: 0 }, { percent: 100 }],
      guardrails: [
        { metric: 'db_oldest_xact_age_seconds', threshold: 2, windowSeconds: 60, action: 'hold' },
        { metric: 'db_wal_bytes_per_second', threshold: 1e12, windowSeconds: 60, action: 'throttle' },
        { metric: 'db_replication_lag_seconds', threshold: 30, windowSeconds: 60, action: 'throttle' },
        { metric: 'db_autovacuum_running', threshold: 0, windowSeconds: 60, action: 'throttle' },
      ],
    });
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await holder.query('SELECT count(*) FROM campaigns'); // takes the snapshot: backend_xmin is now set
    const health = worker.get(DbHealthRepository);
    await waitFor('the open transaction to be older than the threshold', () => health.oldestTransactionAgeSeconds(), (age) => age > 2.5, 30_000, 200);

    expect((await act(api, c.id, 'start')).status).toBe(200);
    const held = await waitRampWait(api, c.id, 'the indicator to hold the ramp', (w) => w?.reason === 'guardrail');
    expect(held.currentStep).toBe(-1);
    expect(held.guardrailState.rampWait.detail).toMatch(/^guardrails say hold: db_oldest_xact_age_seconds \d+\.\d{4} > 2 over 60s → hold$/);
    const byMetric = Object.fromEntries(held.guardrailState.measured.map((m: { metric: string }) => [m.metric, m]));
    expect(byMetric.db_oldest_xact_age_seconds).toMatchObject({ status: 'ok', value: expect.any(Number) });
    expect(byMetric.db_oldest_xact_age_seconds.value).toBeGreaterThan(2);
    expect(byMetric.db_replication_lag_seconds).toMatchObject({ status: 'no_data', value: null }); // no replicas here
    expect(byMetric.db_autovacuum_running.status).toBe('ok');
    const [trip] = await auditOf(api, c.id, 'campaign.guardrail_tripped');
    expect(trip.after.trip).toMatchObject({ metric: 'db_oldest_xact_age_seconds', action: 'hold', threshold: 2 });
    expect(trip.reason).toMatch(/^db_oldest_xact_age_seconds [\d.]+ > 2 over 60s → hold$/);

    const wal = await waitFor('a WAL rate between two ticks', () => rampOf(api, c.id), (r) => r.guardrailState.measured?.some((m: { metric: string; status: string }) => m.metric === 'db_wal_bytes_per_second' && m.status === 'ok'), 30_000, 100);
    expect(wal.guardrailState.measured.find((m: { metric: string }) => m.metric === 'db_wal_bytes_per_second').value).toBeGreaterThanOrEqual(0);

    await holder.query('COMMIT');
    const advanced = await waitFor('the ramp to advance once the transaction is gone', () => rampOf(api, c.id), (r) => r.currentStep === 1, 60_000, 100);
    // 100 % is the last step: a fast planner may already have completed the campaign
    expect(['running', 'completed']).toContain(advanced.status);
    expect((await auditOf(api, c.id, 'campaign.guardrail_cleared')).length).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
