import { FaultStack, checkIntegrity, secretLeaks, waitSettled, type Proc } from '../support/faults';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 6_000;
const CLIENTS = 6;

interface Watch {
  connections: number;
  events: Array<{ conn: number; enabled: number; at: number }>;
  errors: string[];
  stop: () => void;
  done: Promise<void>;
}

/**
 * A progress watcher that behaves like EventSource: it reads `event: progress` frames and,
 * when the stream ends or cannot be opened, reconnects after `retryMs`.
 */
function watch(url: string, key: string, retryMs = 300): Watch {
  const w: Watch = { connections: 0, events: [], errors: [], stop: () => undefined, done: Promise.resolve() };
  let stopped = false;
  let ctrl = new AbortController();
  w.stop = () => {
    stopped = true;
    ctrl.abort();
  };
  w.done = (async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const res = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, signal: ctrl.signal });
        if (res.status !== 200 || !res.body) throw new Error(`status ${res.status}`);
        const conn = ++w.connections;
        const dec = new TextDecoder();
        let buf = '';
        for await (const chunk of res.body) {
          buf += dec.decode(chunk as Uint8Array, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const frame = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = /^event: progress\ndata: (.*)$/m.exec(frame);
            if (data) w.events.push({ conn, enabled: JSON.parse(data[1]).counts.enabled, at: Date.now() });
          }
        }
      } catch (err) {
        if (!stopped) w.errors.push((err as Error).message);
      }
      if (!stopped) await sleep(retryMs);
    }
  })();
  return w;
}

/**
 * Clients hold progress streams on an API replica that is restarted (SIGTERM, then a new
 * process on the same port) in the middle of a run; a second replica serves other clients
 * throughout. The clients reconnect and keep receiving; the campaign is unaffected.
 */
describe('fault: an API replica restarted while clients hold progress streams', () => {
  let stack: FaultStack;
  let db: TestDb;
  const watches: Watch[] = [];

  beforeAll(async () => {
    stack = await FaultStack.create({ BACKEND_SIM_LATENCY_MS: '50', MIGRATION_BATCH_SIZE: '200', MIGRATION_PLANNER_INTERVAL_MS: '300', WORKER_CONCURRENCY: '2' });
    db = await TestDb.connect(stack.dbUrl);
    await db.seedUsers(USERS);
  }, 240_000);

  afterAll(async () => {
    for (const w of watches) w.stop();
    await Promise.all(watches.map((w) => w.done));
    await db?.close();
    await stack?.close();
  });

  it('clients reconnect to the restarted replica and keep receiving until the campaign settles', async () => {
    const a = await stack.startApi();
    const b = await stack.startApi();
    await stack.startWorker();
    const id = await stack.startCampaign('api-restart', 1_000_000, { maxUsersPerSecond: 600 });
    for (let i = 0; i < CLIENTS; i++) watches.push(watch(`${(i % 2 ? b : a).url}/api/v1/campaigns/${id}/progress/stream`, stack.adminKey));
    await waitFor('every client to receive a progress event', async () => watches.map((w) => w.events.length), (n) => n.every((x) => x >= 2), 60_000, 100);

    const t0 = Date.now();
    await a.proc.stop(15_000);
    const stopMs = Date.now() - t0;
    const exit = await a.proc.exited;
    const restarted = await stack.startApi(a.port);
    const downMs = Date.now() - t0;

    const settled = await waitSettled(db, id, USERS, 180_000, stack);
    await waitFor('every client to see the settled counts', async () => watches.map((w) => w.events.at(-1)?.enabled), (e) => e.every((x) => x === settled.enabled), 30_000, 200);
    const result = await checkIntegrity(db, stack.redisUrl, stack.prefix, id, USERS);

    const onA = watches.filter((_, i) => i % 2 === 0);
    const onB = watches.filter((_, i) => i % 2 === 1);
    // a clean shutdown: Nest runs its hooks, then re-raises SIGTERM on itself (no SIGKILL was needed)
    expect([0, 'SIGTERM']).toContain(exit.code ?? exit.signal);
    expect(stopMs).toBeLessThan(15_000);
    for (const w of onA) {
      expect(w.connections).toBeGreaterThanOrEqual(2);
      expect(w.events.some((e) => e.conn >= 2 && e.at > t0)).toBe(true);
    }
    for (const w of onB) expect(w.connections).toBe(1);
    for (const w of watches) {
      const seen = w.events.map((e) => e.enabled);
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
    }
    expect(restarted.proc.alive).toBe(true);
    expect(result.truth.enabled).toBe(settled.enabled);
    expect(secretLeaks(stack.procs.flatMap((p: Proc) => p.lines), [stack.adminKey])).toEqual([]);
    console.log(`API restart: SIGTERM to exit ${stopMs} ms with ${CLIENTS / 2} open streams, back in ${downMs} ms; reconnections ${onA.map((w) => w.connections - 1).join('/')}; events per client ${watches.map((w) => w.events.length).join('/')}; ${result.truth.enabled} enabled`);
  }, 300_000);
});
