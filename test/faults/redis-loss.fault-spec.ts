import { Redis } from 'ioredis';
import { FaultStack, PrivateRedis, checkIntegrity, secretLeaks, waitSettled, type Proc } from '../support/faults';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 6_000;
const PROBE_LOOPS = 6;

interface ProbeResult {
  answers: number;
  wrong: string[];
  errors: string[];
}

/**
 * Redis loses every key (FLUSHALL on a private redis-server; the shared one is never touched)
 * while a campaign runs and while clients evaluate a killed flag whose enabled users only the
 * ratchet keeps on. The engine must move again without a restart (schedules, queued batches'
 * jobs) and no enabled user may ever be answered off while the ratchet is rebuilt. The
 * simulated backend keeps its effect records on the shared Redis (its own prefix), so the
 * one-effect-per-key check survives the flush. Production intervals: planner 2 s, reaper 10 s,
 * epoch check 1 s, ratchet healing 5 s.
 */
describe('fault: Redis loses its data mid-run', () => {
  let stack: FaultStack;
  let db: TestDb;
  let redis: PrivateRedis;
  let worker: Proc;
  let apiUrl: string;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    stack = await FaultStack.create({ BACKEND_KIND: 'http', BACKEND_HTTP_TIMEOUT_MS: '5000', MIGRATION_BATCH_SIZE: '200', MIGRATION_LEASE_MS: '15000', WORKER_CONCURRENCY: '4' });
    const sim = await stack.startSimServer(['--latency-ms', '40']);
    stack.baseEnv.BACKEND_HTTP_URL = sim.url;
    stack.baseEnv.REDIS_URL = redis.url;
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

  async function killFlag(key: string): Promise<void> {
    const cur = await stack.request('GET', `/api/v1/flags/${key}`);
    const r = await stack.request('POST', `/api/v1/flags/${key}/kill`, { body: { reason: 'redis-loss fault test' }, headers: { 'if-match': cur.headers.get('etag') ?? '' } });
    if (r.status !== 200) throw new Error(`kill: ${r.status} ${JSON.stringify(r.body)}`);
  }

  /** Evaluates the killed flag for known users until stopped; every answer must match PostgreSQL's truth. */
  function probe(flag: string, expected: Map<string, boolean>): () => Promise<ProbeResult> {
    const users = [...expected.keys()];
    const result: ProbeResult = { answers: 0, wrong: [], errors: [] };
    let stopped = false;
    const loops = Array.from({ length: PROBE_LOOPS }, async (_, l) => {
      for (let i = l; !stopped; i += PROBE_LOOPS) {
        const user = users[i % users.length];
        try {
          const res = await fetch(`${apiUrl}/ofrep/v1/evaluate/flags/${flag}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({ context: { targetingKey: user } }),
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await res.json()) as { value?: unknown };
          if (res.status !== 200) result.errors.push(`${user}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
          else if (body.value !== expected.get(user)) result.wrong.push(`${user}: ${JSON.stringify(body)}`);
        } catch (err) {
          result.errors.push(`${user}: ${(err as Error).message}`);
        }
        result.answers++;
      }
    });
    return async () => {
      stopped = true;
      await Promise.all(loops);
      return result;
    };
  }

  it('moves again without a restart and never answers an enabled user off while the ratchet is rebuilt', async () => {
    const killedCampaign = await stack.startCampaign('loss-kill');
    await waitFor('users enabled by the first campaign', () => db.counters(killedCampaign), (k) => k.enabled >= 1_500, 120_000, 100);
    await killFlag('loss-kill');
    await waitFor(
      'the killed campaign to stop moving',
      () => db.query(`SELECT (SELECT count(*)::int FROM migration_batches WHERE campaign_id = $1 AND status IN ('queued', 'running')) AS open, (SELECT count(*)::int FROM user_migrations WHERE campaign_id = $1 AND state = 'enrolling') AS enrolling`, [killedCampaign]),
      ([r]) => r.open === 0 && r.enrolling === 0,
      60_000,
      200,
    );
    const truth = await db.query<{ id: string; on: boolean }>(
      `(SELECT user_id::text AS id, true AS on FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' ORDER BY random() LIMIT 200)
       UNION ALL (SELECT user_id::text, false FROM user_migrations WHERE campaign_id = $1 AND state <> 'enabled' ORDER BY random() LIMIT 100)`,
      [killedCampaign],
    );
    const expected = new Map(truth.map((r) => [r.id, r.on]));
    const flagId = (await stack.request('GET', '/api/v1/flags/loss-kill')).body.id as string;

    const running = await stack.startCampaign('loss-run', 1_000_000, { maxUsersPerSecond: 250 });
    await waitFor('the second campaign under way', () => db.counters(running), (k) => k.enabled >= 1_000, 120_000, 100);
    const stopProbes = probe('loss-kill', expected);
    await sleep(1_000);

    const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await admin.connect();
    const [{ t0, lastBatch }] = await db.query(`SELECT clock_timestamp() AS t0, (SELECT coalesce(max(id), 0) FROM migration_batches) AS "lastBatch"`);
    await admin.flushall();
    const flushedAt = Date.now();
    const syncedKey = `${stack.prefix}:ratchet:${flagId}:synced`;
    const rebuilt = await waitFor('the ratchet rebuilt', () => admin.exists(syncedKey), (n) => n === 1, 120_000, 50).then(() => Date.now() - flushedAt);
    const moved = await waitFor(
      'a batch cut after the loss to enable users',
      () => db.query(`SELECT extract(epoch FROM min(finished_at) - $2::timestamptz)::float8 AS s FROM migration_batches WHERE campaign_id = $1 AND id > $3 AND enabled > 0`, [running, t0, lastBatch]),
      ([r]) => r.s !== null,
      120_000,
      100,
    );
    await sleep(2_000);
    const probes = await stopProbes();
    admin.disconnect();
    const scrape = await (await fetch(`${apiUrl}/metrics`)).text();
    const fallbacks = (result: string) => Number(new RegExp(`cutover_ratchet_fallback_lookups_total\\{result="${result}"\\} (\\d+)`).exec(scrape)?.[1] ?? 0);
    // enabled is final: an "on" for a user is right if PostgreSQL has them enabled by now
    const enabledNow = new Set((await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' AND user_id = ANY($2::bigint[])`, [killedCampaign, [...expected.keys()]])).map((r) => r.id));
    const wrong = probes.wrong.filter((w) => expected.get(w.split(':')[0]) === true || !enabledNow.has(w.split(':')[0]));

    await waitSettled(db, running, USERS, 240_000, stack);
    const result = await checkIntegrity(db, stack.redisUrl, stack.prefix, running, USERS);
    const [firstAfter] = await db.query(`SELECT extract(epoch FROM min(finished_at) - $2::timestamptz)::float8 AS s FROM migration_batches WHERE campaign_id = $1 AND started_at > $2 AND enabled > 0`, [running, t0]);

    expect(wrong).toEqual([]);
    expect(probes.errors).toEqual([]);
    expect(probes.answers).toBeGreaterThan(expected.size);
    // PostgreSQL answered while the ratchet was rebuilt: the path under test was taken
    expect(fallbacks('enabled')).toBeGreaterThan(0);
    expect(scrape).toMatch(/cutover_redis_data_losses_total 1\b/);
    expect(worker.alive).toBe(true);
    expect(result.truth.failed).toBe(0);
    expect(secretLeaks(stack.procs.flatMap((p) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(
      `Redis loss: ${probes.answers} evaluations of the killed flag during the loss (${[...expected.values()].filter(Boolean).length} enabled and ${[...expected.values()].filter((v) => !v).length} other users probed), ${wrong.length} wrong, ${probes.errors.length} errors, ${fallbacks('enabled')} + ${fallbacks('not_enabled')} answered by PostgreSQL; ` +
        `ratchet rebuilt ${(rebuilt / 1000).toFixed(1)} s after the flush; first batch started after the flush finished after ${Number(firstAfter.s).toFixed(1)} s, first batch cut after it after ${Number(moved[0].s).toFixed(1)} s; ` +
        `${result.truth.enabled} enabled, ${result.replayedKeys} keys replayed, ${result.effects} effects`,
    );
  }, 420_000);
});
