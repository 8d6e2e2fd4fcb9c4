import { FaultStack, PrivateRedis, checkIntegrity, loadWhile, secretLeaks, waitSettled, type Proc } from '../support/faults';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 8_000;
const OUTAGE_MS = 3_000;

/**
 * Redis goes away for a few seconds in the middle of a run and comes back with its
 * append-only file (a private redis-server; the shared one is never touched). BullMQ jobs,
 * the job schedulers and the simulated backend's effect records live in it. Meanwhile clients
 * keep evaluating flags over OFREP: the API stays ready and answers them from memory, and an
 * admin write is refused at once with 503 instead of waiting for Redis.
 */
describe('fault: Redis restarted mid-run', () => {
  let stack: FaultStack;
  let db: TestDb;
  let redis: PrivateRedis;
  let worker: Proc;
  let apiUrl: string;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await FaultStack.create({
      BACKEND_SIM_LATENCY_MS: '60',
      BACKEND_SIM_TRANSIENT_FAILURE_RATIO: '0.02',
      MIGRATION_BATCH_SIZE: '200',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      MIGRATION_REAPER_INTERVAL_MS: '500',
      MIGRATION_LEASE_MS: '3000',
      MIGRATION_RETRY_BACKOFF_MS: '50',
      MIGRATION_MAX_ATTEMPTS: '10',
      WORKER_CONCURRENCY: '4',
    });
    stack.redisUrl = redis.url;
    apiUrl = (await stack.startApi()).url;
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
    worker = await stack.startWorker();
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await stack?.close();
    await redis?.close();
  });

  it('resumes by itself: the campaign completes, counters equal truth, every effect once', async () => {
    const id = await stack.startCampaign('redis-restart', 1_000_000, { maxUsersPerSecond: 2_500 });
    expect((await stack.request('POST', '/api/v1/flags', { body: { key: 'half', rolloutPpm: 500_000 } })).status).toBe(201);
    const before = await waitFor('a quarter of the users', () => db.counters(id), (k) => k.enabled >= USERS / 4, 120_000, 50);
    await redis.down();
    const t0 = Date.now();
    const evaluations = loadWhile(apiUrl, stack.adminKey, [
      { method: 'POST', path: '/ofrep/v1/evaluate/flags/redis-restart', body: { context: { targetingKey: '17' } } },
      { method: 'POST', path: '/ofrep/v1/evaluate/flags/half', body: { context: { targetingKey: '42' } } },
      { method: 'POST', path: '/ofrep/v1/evaluate/flags', body: { context: { targetingKey: '99' } } },
    ]);
    const ready = await fetch(`${apiUrl}/health/ready`).then(async (r) => ({ status: r.status, body: await r.json() }));
    const deps = await fetch(`${apiUrl}/health/dependencies`).then(async (r) => ({ status: r.status, body: await r.json() }));
    const metrics = await fetch(`${apiUrl}/metrics`).then(async (r) => ({ status: r.status, text: await r.text() }));
    const writeStart = Date.now();
    const write = await stack.request('POST', '/api/v1/flags', { body: { key: 'during-outage', rolloutPpm: 0 } });
    const writeMs = Date.now() - writeStart;
    await sleep(OUTAGE_MS - (Date.now() - t0));
    const during = await db.counters(id);
    const load = await evaluations();
    await redis.up();
    await waitSettled(db, id, USERS, 180_000, stack);
    const result = await checkIntegrity(db, redis.url, stack.prefix, id, USERS);

    // readiness is about this process: it stays in the Service and evaluates from memory
    expect(ready).toEqual({ status: 200, body: { status: 'up', checks: { flagSnapshot: 'ready' } } });
    expect(deps).toEqual({ status: 503, body: { status: 'down', checks: { postgres: 'up', redis: 'down' } } });
    expect(load.errors).toEqual([]);
    expect(Object.keys(load.byStatus)).toEqual(['200']);
    expect(write.status).toBe(503);
    expect(write.body).toEqual({ code: 'service.redis_unavailable', message: expect.any(String), details: { dependency: 'redis', retryAfterSeconds: 1 } });
    expect(write.headers.get('retry-after')).toBe('1');
    expect((await stack.request('GET', '/api/v1/flags/during-outage')).status).toBe(404);
    // the scrape still answers, with the dependency alert's signal
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('cutover_dependency_up{dependency="redis"} 0');
    expect(metrics.text).toContain('cutover_dependency_up{dependency="postgres"} 1');
    expect(worker.alive).toBe(true);
    expect(result.truth.enabled + result.truth.failed + result.truth.ineligible).toBe(USERS);
    expect(result.truth.failed).toBe(0);
    expect((await fetch(`${apiUrl}/health/ready`)).status).toBe(200);
    expect(secretLeaks(stack.procs.flatMap((p) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(
      `Redis restart: down ${OUTAGE_MS} ms after ${before.enabled} enabled (${during.enabled} when it came back); ${load.requests} OFREP evaluations meanwhile, all 200; an admin write refused with 503 in ${writeMs} ms; ` +
        `${result.truth.enabled} enabled, ${result.replayedKeys} keys replayed, ${result.effects} effects`,
    );
  }, 300_000);
});
