import { FaultDb, FaultStack, PrivateRedis, checkIntegrity, secretLeaks, sleep, waitSettled, waitUntil, type Proc } from '../support/faults';

const USERS = 8_000;
const OUTAGE_MS = 3_000;

/**
 * Redis goes away for a few seconds in the middle of a run and comes back with its
 * append-only file (a private redis-server; the shared one is never touched). BullMQ jobs,
 * the job schedulers and the simulated backend's effect records live in it.
 */
describe('fault: Redis restarted mid-run', () => {
  let stack: FaultStack;
  let db: FaultDb;
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
    db = await FaultDb.connect(stack.dbUrl);
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
    const before = await waitUntil('a quarter of the users', () => db.counters(id), (k) => k.enabled >= USERS / 4, 120_000, 50);
    await redis.down();
    const t0 = Date.now();
    const ready = await fetch(`${apiUrl}/health/ready`).then(async (r) => ({ status: r.status, body: await r.json() }));
    const metrics = await fetch(`${apiUrl}/metrics`).then(async (r) => ({ status: r.status, text: await r.text() }));
    await sleep(OUTAGE_MS - (Date.now() - t0));
    const during = await db.counters(id);
    await redis.up();
    await waitSettled(db, id, USERS, 180_000, stack);
    const result = await checkIntegrity(db, redis.url, stack.prefix, id, USERS);

    expect(ready).toEqual({ status: 503, body: { status: 'down', checks: { postgres: 'up', redis: 'down' } } });
    // the scrape still answers, with the dependency alert's signal
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('cutover_dependency_up{dependency="redis"} 0');
    expect(metrics.text).toContain('cutover_dependency_up{dependency="postgres"} 1');
    expect(worker.alive).toBe(true);
    expect(result.truth.enabled + result.truth.failed + result.truth.ineligible).toBe(USERS);
    expect(result.truth.failed).toBe(0);
    expect((await fetch(`${apiUrl}/health/ready`)).status).toBe(200);
    expect(secretLeaks(stack.procs.flatMap((p) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(`Redis restart: down ${OUTAGE_MS} ms after ${before.enabled} enabled (${during.enabled} when it came back); ${result.truth.enabled} enabled, ${result.replayedKeys} keys replayed, ${result.effects} effects`);
  }, 300_000);
});
