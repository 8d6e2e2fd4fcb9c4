import { FaultStack, checkIntegrity, loadWhile, secretLeaks, waitSettled, type Proc } from '../support/faults';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 8_000;
const ROUNDS = 5;

/**
 * Every connection the API and the worker hold to the test's own database is terminated
 * (pg_terminate_backend), five times while batches are claimed and recorded.
 */
describe('fault: PostgreSQL connections terminated mid-batch', () => {
  let stack: FaultStack;
  let db: TestDb;
  let worker: Proc;
  let api: Proc;

  beforeAll(async () => {
    stack = await FaultStack.create({
      BACKEND_SIM_LATENCY_MS: '40',
      MIGRATION_BATCH_SIZE: '200',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      MIGRATION_REAPER_INTERVAL_MS: '500',
      MIGRATION_LEASE_MS: '3000',
      MIGRATION_RETRY_BACKOFF_MS: '50',
      MIGRATION_MAX_ATTEMPTS: '10',
      WORKER_CONCURRENCY: '4',
    });
    api = (await stack.startApi()).proc;
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
    worker = await stack.startWorker();
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await stack?.close();
  });

  it('recovers: both processes stay up, the campaign completes, counters equal truth, every effect once', async () => {
    const id = await stack.startCampaign('pg-terminate', 1_000_000, { maxUsersPerSecond: 2_000 });
    await waitFor('the first users enabled', () => db.counters(id), (k) => k.enabled >= USERS / 10, 120_000, 50);
    // clients keep reading and evaluating while their connections are cut
    const stopLoad = loadWhile(stack.apiUrl, stack.adminKey, [
      { method: 'GET', path: `/api/v1/campaigns/${id}` },
      { method: 'GET', path: `/api/v1/campaigns/${id}/progress` },
      { method: 'POST', path: '/ofrep/v1/evaluate/flags/pg-terminate', body: { context: { targetingKey: '42' } } },
      { method: 'GET', path: '/api/v1/flags/pg-terminate' },
    ]);
    let terminated = 0;
    let inFlight = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // strike while a batch is claimed and its call or its recording is under way
      const running = await waitFor('a batch in flight', async () => (await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status = 'running'`, [id]))[0].n as number, (n) => n > 0, 20_000, 5);
      inFlight += running;
      terminated += await db.terminateOthers();
      await sleep(300);
    }
    const load = await stopLoad();
    await waitSettled(db, id, USERS, 180_000, stack);
    const result = await checkIntegrity(db, stack.redisUrl, stack.prefix, id, USERS);

    expect(terminated).toBeGreaterThanOrEqual(ROUNDS);
    expect(inFlight).toBeGreaterThanOrEqual(ROUNDS);
    expect(worker.alive).toBe(true);
    expect(api.alive).toBe(true);
    expect((await stack.request('GET', `/api/v1/campaigns/${id}`)).status).toBe(200);
    expect(result.truth.failed).toBe(0);
    expect(load.errors).toEqual([]);
    expect(secretLeaks(stack.procs.flatMap((p) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(`PostgreSQL terminations: ${terminated} connections in ${ROUNDS} rounds, ${inFlight} running batches seen at those moments; ${load.requests} API requests meanwhile ${JSON.stringify(load.byStatus)}; ${result.truth.enabled} enabled, ${result.replayedKeys} keys replayed, ${result.effects} effects`);
  }, 300_000);
});
