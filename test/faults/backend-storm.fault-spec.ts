import { ChaosProxy, FaultStack, checkIntegrity, secretLeaks, waitSettled } from '../support/faults';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 8_000;

/**
 * The backend misbehaves in every way an HTTP service can, through a proxy in front of the
 * simulated backend's server: calls that time out on the client while the backend still
 * applies them later, answers lost after the effect (502), and a storm of 503s.
 */
describe('fault: backend timeouts and a storm of 5xx answers', () => {
  let stack: FaultStack;
  let db: TestDb;
  let proxy: ChaosProxy;

  beforeAll(async () => {
    stack = await FaultStack.create({
      BACKEND_KIND: 'http',
      BACKEND_HTTP_TIMEOUT_MS: '400',
      MIGRATION_BATCH_SIZE: '200',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      MIGRATION_REAPER_INTERVAL_MS: '500',
      MIGRATION_LEASE_MS: '5000',
      MIGRATION_RETRY_BACKOFF_MS: '100',
      MIGRATION_MAX_ATTEMPTS: '6',
      WORKER_CONCURRENCY: '4',
    });
    const sim = await stack.startSimServer(['--latency-ms', '30']);
    proxy = new ChaosProxy(sim.url);
    proxy.holdMs = 1_200;
    stack.baseEnv.BACKEND_HTTP_URL = await proxy.start();
    await stack.startApi();
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
    await stack.startWorker();
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await proxy?.close();
    await stack?.close();
  });

  it('absorbs timeouts, lost answers and 5xx: users retried with the same keys end enabled or failed with a reason, then retry-failed finishes', async () => {
    const id = await stack.startCampaign('backend-storm', 1_000_000, { maxUsersPerSecond: 2_000 });
    await waitFor('the first users', () => db.counters(id), (k) => k.enabled >= USERS / 10, 120_000, 50);
    for (const mode of ['hold', 'lose-answer', 'refuse'] as const) {
      proxy.mode = mode;
      await sleep(mode === 'refuse' ? 3_000 : 1_500);
    }
    proxy.mode = 'pass';
    const first = await waitSettled(db, id, USERS, 180_000, stack);
    const failedReasons = await db.query<{ last_error: string; n: number }>(`SELECT last_error, count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state = 'failed' GROUP BY 1`, [id]);

    // users whose attempts ran out during the storm get another chance once it is over
    let rounds = 0;
    let after = first;
    while (after.failed > 0 && rounds < 5) {
      rounds++;
      expect((await stack.request('POST', `/api/v1/campaigns/${id}/retry-failed`, { body: { reason: 'backend storm over' } })).status).toBe(202);
      after = await waitFor('the retried users', () => db.counters(id), (k) => k.legacy + k.eligible + k.enrolling === 0 && k.failed < after.failed, 120_000, 250).catch(() => after);
    }
    await waitSettled(db, id, USERS, 60_000, stack);
    const result = await checkIntegrity(db, stack.redisUrl, stack.prefix, id, USERS);

    expect(proxy.counts.hold).toBeGreaterThan(0);
    expect(proxy.counts['lose-answer']).toBeGreaterThan(0);
    expect(proxy.counts.refuse).toBeGreaterThan(0);
    expect(result.replayedKeys).toBeGreaterThan(0);
    expect(result.truth.failed).toBe(0);
    expect(result.truth.enabled + result.truth.ineligible).toBe(USERS);
    expect(failedReasons.every((r) => r.last_error.length > 0)).toBe(true);
    const [errs] = await db.query(`SELECT coalesce(sum(backend_errors), 0)::int AS n FROM migration_batches WHERE campaign_id = $1`, [id]);
    expect(errs.n).toBeGreaterThan(0);
    expect(secretLeaks(stack.procs.flatMap((p) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(`backend storm: proxy ${JSON.stringify(proxy.counts)}; ${errs.n} failed backend calls recorded; ${first.failed} users failed during the storm (${failedReasons.map((r) => `${r.n}× ${r.last_error}`).join('; ')}), ${rounds} retry-failed rounds; ${result.truth.enabled} enabled, ${result.replayedKeys} keys replayed (max ${result.maxCallsPerKey} calls), ${result.effects} effects`);
  }, 300_000);
});
