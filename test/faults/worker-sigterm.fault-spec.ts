import { ChaosProxy, FaultStack, checkIntegrity, secretLeaks, waitSettled } from '../support/faults';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 8_000;
const LONG_GRACE_MS = 8_000;
const SHORT_GRACE_MS = 200;

async function inFlight(db: TestDb, id: string) {
  const [r] = await db.query(
    `SELECT (SELECT count(*)::int FROM migration_batches WHERE campaign_id = $1 AND status = 'running') AS batches,
            (SELECT count(*)::int FROM user_migrations WHERE campaign_id = $1 AND state = 'enrolling') AS users`,
    [id],
  );
  return r as { batches: number; users: number };
}

/**
 * SIGTERM on a worker while its batches wait on a slow backend (700 ms per call, a separate
 * process). With a grace period longer than a call, the in-flight batches finish and are
 * recorded before the process exits. With a grace period shorter than a call, the process
 * (the proxy holds every call 6 s, and the backend still applies it afterwards), the process
 * exits within the grace period; the users it held stay leased and the reaper hands them
 * back after the lease, to another worker that finishes them with the same keys.
 */
const t0Run = Date.now();
const steps: string[] = [];
function step(what: string): void {
  steps.push(`${((Date.now() - t0Run) / 1000).toFixed(1)}s ${what}`);
  process.stderr.write(`[sigterm] ${steps.at(-1)}\n`);
}

describe('fault: SIGTERM on a worker', () => {
  let stack: FaultStack;
  let db: TestDb;
  let proxy: ChaosProxy;

  beforeAll(async () => {
    stack = await FaultStack.create({
      BACKEND_KIND: 'http',
      BACKEND_HTTP_TIMEOUT_MS: '10000',
      MIGRATION_BATCH_SIZE: '250',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      MIGRATION_REAPER_INTERVAL_MS: '300',
      MIGRATION_LEASE_MS: '2500',
      WORKER_CONCURRENCY: '3',
    });
    const sim = await stack.startSimServer(['--latency-ms', '700']);
    proxy = new ChaosProxy(sim.url);
    proxy.holdMs = 6_000;
    stack.baseEnv.BACKEND_HTTP_URL = await proxy.start();
    await stack.startApi();
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await proxy?.close();
    await stack?.close();
  });

  it('finishes in-flight batches within a long grace period, exits within a short one and the reaper hands the rest back', async () => {
    const id = await stack.startCampaign('sigterm', 1_000_000, { maxUsersPerSecond: 1_000 });

    const patient = await stack.startWorker({ WORKER_SHUTDOWN_GRACE_MS: String(LONG_GRACE_MS) }, 'worker-long-grace');
    step('patient worker started');
    const before1 = await waitFor('batches in flight', () => inFlight(db, id), (v) => v.batches > 0, 120_000, 20);
    let t0 = Date.now();
    // what Ctrl-C on `npm start` delivers: SIGINT to the process group, then the launcher's SIGTERM
    patient.kill('SIGINT');
    await sleep(50);
    patient.kill('SIGTERM');
    step(`SIGINT then SIGTERM to patient with ${JSON.stringify(before1)}`);
    const exit1 = await patient.exited;
    const exit1Ms = Date.now() - t0;
    const after1 = await inFlight(db, id);
    step(`patient exited ${JSON.stringify(exit1)} after ${exit1Ms} ms, in flight ${JSON.stringify(after1)}`);

    // from here every backend call takes 6 s (then still takes effect): far longer than the short grace period
    proxy.mode = 'hold';
    const hasty = await stack.startWorker({ WORKER_SHUTDOWN_GRACE_MS: String(SHORT_GRACE_MS) }, 'worker-short-grace');
    const before2 = await waitFor('batches in flight again', () => inFlight(db, id), (v) => v.batches > 0, 120_000, 20);
    t0 = Date.now();
    hasty.kill('SIGTERM');
    step(`SIGTERM hasty with ${JSON.stringify(before2)}`);
    const exit2 = await hasty.exited;
    const exit2Ms = Date.now() - t0;
    const after2 = await inFlight(db, id);
    step(`hasty exited ${JSON.stringify(exit2)} after ${exit2Ms} ms, in flight ${JSON.stringify(after2)}`);

    proxy.mode = 'pass';
    const finisher = await stack.startWorker({}, 'worker-finisher');
    // a job fetched by the hasty worker but never claimed waits for BullMQ's stall check (lock 30 s,
    // then up to two 30 s check intervals) before another worker takes it: up to ~90 s
    await waitSettled(db, id, USERS, 180_000, stack);
    const result = await checkIntegrity(db, stack.redisUrl, stack.prefix, id, USERS);

    // a clean shutdown: Nest runs its hooks, then re-raises SIGTERM on itself
    expect([0, 'SIGTERM']).toContain(exit1.code ?? exit1.signal);
    expect(exit1Ms).toBeLessThan(LONG_GRACE_MS + 2_000);
    expect(after1).toEqual({ batches: 0, users: 0 });
    expect(patient.lines.some((l) => l.includes('did not finish within') || l.includes('exiting now'))).toBe(false);
    expect(patient.lines.some((l) => l.includes('already stopping'))).toBe(true);

    expect([0, 'SIGTERM']).toContain(exit2.code ?? exit2.signal);
    // the grace period plus the process's own teardown (connections, Nest shutdown hooks)
    expect(exit2Ms).toBeLessThan(SHORT_GRACE_MS + 3_000);
    expect(hasty.lines.some((l) => l.includes('did not finish within'))).toBe(true);
    expect(after2.users).toBeGreaterThan(0);
    expect(finisher.lines.some((l) => l.includes('reaped batch'))).toBe(true);

    expect(result.truth.failed).toBe(0);
    expect(secretLeaks(stack.procs.flatMap((p) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(
      `SIGTERM: grace ${LONG_GRACE_MS} ms — ${before1.batches} batches/${before1.users} users in flight, exit after ${exit1Ms} ms, nothing left in flight; ` +
        `grace ${SHORT_GRACE_MS} ms — ${before2.batches} batches/${before2.users} users in flight, exit after ${exit2Ms} ms, ${after2.users} users left leased and reaped; ` +
        `${result.truth.enabled} enabled, ${result.replayedKeys} keys replayed, ${result.effects} effects`,
    );
  }, 300_000);
});
