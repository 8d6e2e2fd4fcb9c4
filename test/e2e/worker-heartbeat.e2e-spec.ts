import type { INestApplicationContext } from '@nestjs/common';
import { createServer } from 'node:net';
import { WORKER_PROCESSORS, type WorkerProcessors } from '../../src/worker-processors';
import { createTestEnvironment, startTestWorker, type TestEnvironment } from '../support/app';
import { waitFor } from '../support/wait';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * The worker's liveness endpoint proves consumption, not just a running event loop: with its
 * BullMQ consumers stopped while jobs become due (the planner, reaper and sampler schedules),
 * it turns 503 within WORKER_HEARTBEAT_TIMEOUT_MS, and 200 again once they consume.
 */
describe('worker liveness: the consumption heartbeat on WORKER_METRICS_PORT', () => {
  let env: TestEnvironment;
  let worker: INestApplicationContext;
  let port: number;
  const live = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/health/live`);
    return { status: r.status, body: (await r.json()) as { status: string; heartbeat: { lastBeat: string; lastBeatAgeMs: number } } };
  };
  const jobsFinished = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return [...text.matchAll(/^cutover_worker_jobs_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const consumers = () => worker.get<WorkerProcessors>(WORKER_PROCESSORS).map((p) => worker.get(p, { strict: false }).worker);

  beforeAll(async () => {
    port = await freePort();
    env = await createTestEnvironment({
      WORKER_METRICS_PORT: String(port),
      WORKER_HEARTBEAT_TIMEOUT_MS: '1500',
      MIGRATION_PLANNER_INTERVAL_MS: '200',
    });
    worker = await startTestWorker(env);
  }, 120_000);
  afterAll(async () => {
    await worker.close();
    await env.dropDatabase();
  }, 120_000);

  it('is healthy while the worker takes its scheduled jobs', async () => {
    const r = await waitFor('a job beat', live, (x) => x.body.heartbeat.lastBeat === 'job', 20_000);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('up');
  });

  it('turns unhealthy when the worker stops consuming while jobs are due, and healthy when it resumes', async () => {
    await Promise.all(consumers().map((w) => w.pause(true)));
    const down = await waitFor('liveness 503', live, (x) => x.status === 503, 20_000);
    expect(down.body.status).toBe('down');
    expect(down.body.heartbeat.lastBeatAgeMs).toBeGreaterThan(1500);
    // the metrics port itself still answers: /metrics alone would not have noticed
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);

    const finishedBefore = await jobsFinished();
    for (const w of consumers()) void w.resume();
    const up = await waitFor('liveness 200', live, (x) => x.status === 200, 20_000);
    expect(up.body.status).toBe('up');
    // it is healthy because it consumed again: the jobs that waited got finished
    expect(await waitFor('finished jobs', jobsFinished, (n) => n > finishedBefore, 20_000)).toBeGreaterThan(finishedBefore);
  });
});
