import { FaultStack, checkIntegrity, secretLeaks, waitSettled, type Proc } from '../support/faults';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 8_000;

/**
 * A worker is SIGKILLed while its batches are in flight against the HTTP backend (the
 * simulated backend's server, a separate process, so a call the dead worker made may still
 * take effect). A second worker's reaper hands the leased users back; the replayed calls
 * carry the same idempotency keys.
 */
describe('fault: a worker killed with SIGKILL mid-batch', () => {
  let stack: FaultStack;
  let db: TestDb;
  let doomed: Proc;
  let survivor: Proc;

  beforeAll(async () => {
    stack = await FaultStack.create({
      BACKEND_KIND: 'http',
      BACKEND_HTTP_TIMEOUT_MS: '5000',
      MIGRATION_BATCH_SIZE: '200',
      MIGRATION_LEASE_MS: '2000',
      MIGRATION_REAPER_INTERVAL_MS: '300',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      MIGRATION_RETRY_BACKOFF_MS: '50',
      MIGRATION_BACKLOG_BATCHES: '12',
      WORKER_CONCURRENCY: '4',
    });
    const sim = await stack.startSimServer(['--latency-ms', '250', '--permanent', '0.01']);
    stack.baseEnv.BACKEND_HTTP_URL = sim.url;
    await stack.startApi();
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
    doomed = await stack.startWorker({}, 'worker-a');
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await stack?.close();
  });

  it('completes, counters equal truth, every effect once, everyone enabled or failed with a reason', async () => {
    const id = await stack.startCampaign('kill-9');
    const atKill = await waitFor(
      'batches in flight after a quarter of the users',
      async () => ({ counters: await db.counters(id), running: (await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status = 'running'`, [id]))[0].n as number }),
      (v) => v.counters.enabled >= USERS / 4 && v.running > 0,
      120_000,
      50,
    );
    doomed.kill('SIGKILL');
    expect((await doomed.exited).signal).toBe('SIGKILL');
    const leased = (await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state = 'enrolling'`, [id]))[0].n;

    survivor = await stack.startWorker({}, 'worker-b');
    await waitSettled(db, id, USERS, 180_000, stack);
    const result = await checkIntegrity(db, stack.redisUrl, stack.prefix, id, USERS);

    expect(atKill.running).toBeGreaterThan(0);
    expect(leased).toBeGreaterThan(0);
    expect(survivor.lines.some((l) => l.includes('reaped batch'))).toBe(true);
    expect(result.truth.enabled).toBeGreaterThan(USERS * 0.9);
    expect(result.truth.failed).toBeGreaterThan(0);
    expect(secretLeaks(stack.procs.flatMap((p) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(`worker SIGKILL: ${atKill.running} batches and ${leased} users in flight at the kill; ${result.truth.enabled} enabled, ${result.truth.failed} failed, ${result.replayedKeys} keys called more than once (max ${result.maxCallsPerKey}), ${result.effects} effects`);
  }, 300_000);
});
