import type { INestApplicationContext } from '@nestjs/common';
import { createServer } from 'node:net';
import { cutoverMetrics } from '../../src/core/metrics/metrics';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { ProgressFixtures } from './progress.fixtures';
import { act, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('progress in the worker: the sampler job scheduler and the worker metrics server', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let fx: ProgressFixtures;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    const env = await createTestEnvironment({
      WORKER_METRICS_PORT: String(metricsPort),
      BACKEND_SIM_LATENCY_MS: '5',
      BACKEND_SIM_MAX_USERS_PER_SECOND: '1000',
      MIGRATION_BATCH_SIZE: '250',
      MIGRATION_PLANNER_INTERVAL_MS: '500',
      WORKER_CONCURRENCY: '2',
    });
    api = await startTestApi(env);
    fx = new ProgressFixtures(env.config.database.url);
    worker = await startTestWorker(env);
  }, 120_000);
  afterAll(async () => {
    await worker.close();
    await fx.close();
    await api.close();
  }, 120_000);

  it('samples a running campaign into its history without anyone asking', async () => {
    const c = await fx.campaign({ status: 'running' });
    await fx.addCounters(c.id, { enabled: 42, eligible: 8 });
    // the sampler may already have run between the two fixture writes: wait for the sample after them
    type Point = { counts: { enabled: number; total: number }; resolution: string };
    const newest = async () => ((await api.request('GET', `/api/v1/campaigns/${c.key}/progress/history?resolution=raw`)).body.points as Point[]).at(-1);
    const latest = await waitFor('a sample with the fixture counts', newest, (p) => p?.counts.enabled === 42, 150_000, 200);
    expect(latest).toMatchObject({ resolution: 'raw', counts: { enabled: 42, total: 50 } });
  }, 180_000);

  it('follows a campaign run by the real engine: throughput from samples, counts equal to table truth', async () => {
    const db = await TestDb.connect(api.env);
    try {
      await db.seedUsers(15_000);
      await createFlag(api, 'e2ee-progress', 1_000_000);
      const c = await createCampaign(api, { key: 'engine-run', name: 'Engine run', flag: 'e2ee-progress' });
      expect((await act(api, c.id, 'start')).status).toBe(200);
      const progress = () => api.request('GET', '/api/v1/campaigns/engine-run/progress').then((r) => r.body);
      const moving = await waitFor('a measured throughput', progress, (p) => p.throughput.perSecond1m > 0 && p.counts.enabled > 0, 120_000, 500);
      expect(moving.campaign.status).toBe('running');
      // on a quiet machine the engine may already have moved everyone it can
      if (moving.eta.remainingUsers > 0) expect(moving.eta.seconds).toBeGreaterThan(0);
      else expect(moving.eta.seconds).toBe(0);
      const history = (await api.request('GET', '/api/v1/campaigns/engine-run/progress/history?resolution=raw')).body.points;
      expect(history.length).toBeGreaterThanOrEqual(2);
      const enabledSeries = history.map((x: { counts: { enabled: number } }) => x.counts.enabled);
      expect(enabledSeries).toEqual([...enabledSeries].sort((a, b) => a - b));

      const settled = await waitFor('every user settled', progress, (p) => p.counts.legacy + p.counts.eligible + p.counts.enrolling === 0, 120_000, 500);
      const truth = await db.truth(c.id);
      for (const state of ['ineligible', 'enabled', 'failed']) expect(settled.counts[state]).toBe(truth[state] ?? 0);
      expect(settled.counts.total).toBe(15_000);
      expect(settled.eta).toMatchObject({ remainingUsers: 0, seconds: 0 });
      expect(settled.backlog.batches).toBe(0);
    } finally {
      await db.close();
    }
  }, 240_000);

  it("serves the worker's own metrics on WORKER_METRICS_PORT", async () => {
    cutoverMetrics.backendErrors.inc({ kind: 'transient' }, 2);
    const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toMatch(/cutover_backend_errors_total\{kind="transient"\} \d+/);
    // written by the engine's batches in the previous test
    expect(Number(/cutover_users_enabled_total\{campaign="engine-run"\} (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/cutover_batch_duration_seconds_count (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
  });
});
