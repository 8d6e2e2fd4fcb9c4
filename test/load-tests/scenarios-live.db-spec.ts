import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { loadK6Script } from './k6-loader';
import { k6Runtime, type Runtime } from './k6-runtime';

/**
 * Each k6 scenario's own code — setup(), its scenario functions, teardown() — run against the
 * real API and worker (PostgreSQL, Redis, simulated backend): the requests, bodies, headers
 * and checks the scripts send are the ones the API accepts. A few iterations each, not load.
 */
let stack: ChildProcess;
let url = '';
let adminKey = '';

function run(file: string, env: Record<string, string> = {}): { rt: Runtime; s: Record<string, any> } {
  const rt = k6Runtime();
  const s = loadK6Script(file, { BASE_URL: url, API_KEY: adminKey, ...env }, rt.modules).exports;
  return { rt, s };
}

function failedChecks(rt: Runtime) {
  return rt.checks.filter((c) => !c.ok);
}

/** Keys named `name`: how many are active and how many revoked. */
async function keysNamed(name: string): Promise<{ active: number; revoked: number }> {
  const items: Array<{ name: string; revokedAt: string | null }> = (await api('GET', '/api/v1/keys?includeRevoked=true&limit=500')).items;
  const mine = items.filter((k) => k.name === name);
  return { active: mine.filter((k) => !k.revokedAt).length, revoked: mine.filter((k) => k.revokedAt).length };
}

/** The summary handleSummary gets from k6 after this setup(): no API key may reach the results. */
function resultsOf(s: Record<string, any>, data: unknown): string {
  const out: Record<string, string> = s.handleSummary({ setup_data: data, metrics: {}, root_group: { checks: [], groups: [] }, state: { testRunDurationMs: 1 } });
  return Object.values(out).join('\n');
}

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const send = () =>
    fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  // The k6 runtime's synchronous requests block this process's event loop for many seconds:
  // a pooled keep-alive connection the server closed meanwhile is only seen closed when reused.
  const res = await send().catch((err: Error) => {
    if (method !== 'GET') throw err;
    return send();
  });
  return res.json();
}

beforeAll(async () => {
  const root = resolve(__dirname, '../..');
  stack = spawn(process.execPath, ['-r', resolve(__dirname, 'ts-register.js'), resolve(__dirname, 'live-stack.ts')], {
    cwd: root,
    env: { ...process.env, LIVE_STACK_ENV: JSON.stringify({ BACKEND_SIM_LATENCY_MS: '1', MIGRATION_PLANNER_INTERVAL_MS: '200' }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((ok, fail) => {
    createInterface({ input: stack.stdout! }).once('line', ok);
    stack.once('exit', (code) => fail(new Error(`live stack exited with ${code}`)));
  });
  ({ url, adminKey } = JSON.parse(first));
}, 240_000);

afterAll(async () => {
  if (!stack || stack.exitCode !== null) return;
  const exited = new Promise((ok) => stack.once('exit', ok));
  stack.kill('SIGTERM');
  await exited;
}, 60_000);

describe('k6 scenarios against the real API', () => {
  let population: { fromId: string; toId: string };

  beforeAll(async () => {
    population = await api('POST', '/api/v1/users/seed', { count: 2000 });
  }, 60_000);

  it('evaluate.js: setup is idempotent, every evaluation passes its checks, teardown revokes its key, results hold no key', async () => {
    const { rt, s } = run('evaluate.js');
    const interrupted = s.setup();
    const data = s.setup();
    expect(data.flagKey).toBe(interrupted.flagKey);
    // the key of a run that never reached its teardown is revoked by the next setup
    expect(await keysNamed('k6 evaluator (evaluate)')).toEqual({ active: 1, revoked: 1 });
    for (let i = 0; i < 5; i++) s.evaluate(data);
    expect(failedChecks(rt)).toEqual([]);
    expect(rt.checks.length).toBe(10);
    expect(rt.requests.filter((r) => r.tags?.endpoint === 'ofrep_single').map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    s.teardown(data);
    expect(await keysNamed('k6 evaluator (evaluate)')).toEqual({ active: 0, revoked: 2 });
    const results = resultsOf(s, data);
    expect(results).toContain('"flagKey"');
    expect(results).not.toContain(data.evalKey);
    expect(results).not.toContain(adminKey);
  }, 120_000);

  it('evaluate-bulk.js: every flag in the bulk answer, and its ETag gives 304', async () => {
    const { rt, s } = run('evaluate-bulk.js', { FLAG_COUNT: '3' });
    const data = s.setup();
    for (let i = 0; i < 3; i++) s.bulk(data);
    expect(failedChecks(rt)).toEqual([]);
    expect(rt.samples.get('bulk_not_modified')).toEqual([true, true, true]);
    s.teardown(data);
    expect(await keysNamed('k6 evaluator (evaluate-bulk)')).toEqual({ active: 0, revoked: 1 });
  }, 120_000);

  it('kill-switch.js: a watcher sees DISABLED after the kill, and teardown revives the flag', async () => {
    const { rt, s } = run('kill-switch.js', { KILL_AFTER: '2s', DURATION: '20s', POLL_MS: '20' });
    const data = s.setup();
    s.watch(data);
    s.load(data);
    s.kill(data);
    for (let i = 0; i < 100 && (rt.samples.get('kill_watchers_disabled') ?? []).length === 0; i++) s.watch(data);
    for (let i = 0; i < 3; i++) s.watch(data);
    expect(failedChecks(rt)).toEqual([]);
    expect(rt.samples.get('kill_sent')).toEqual([1]);
    expect(rt.samples.get('kill_watchers_disabled')).toEqual([1]);
    expect(rt.samples.get('kill_propagation_ms')).toEqual([expect.any(Number)]);
    expect(rt.samples.get('kill_flapped')).toEqual([]);
    s.teardown(data);
    expect((await api('GET', `/api/v1/flags/${data.flagKey}`)).killed).toBe(false);
    expect(await keysNamed('k6 evaluator (kill-switch)')).toEqual({ active: 0, revoked: 1 });
    expect(resultsOf(s, data)).not.toContain(data.evalKey);
  }, 120_000);

  it('opt-in-storm.js: opt-ins of seeded users, repeats answered the same; teardown halts the campaign', async () => {
    const env = { USER_ID_MIN: population.fromId, USER_ID_MAX: population.toId, REPEAT_RATIO: '0.5' };
    const { rt, s } = run('opt-in-storm.js', env);
    const data = s.setup();
    expect(s.setup().campaign).toBe(data.campaign);
    for (let i = 0; i < 12; i++) s.optIn(data);
    expect(failedChecks(rt)).toEqual([]);
    const idempotent = rt.samples.get('opt_in_idempotent')!;
    expect(idempotent.length).toBeGreaterThan(0);
    expect(idempotent.every((v) => v === true)).toBe(true);
    s.teardown(data);
    expect((await api('GET', `/api/v1/campaigns/${data.campaign}`)).status).toBe('halted');
    expect(resultsOf(s, data)).not.toContain(adminKey);
  }, 120_000);

  it('progress-watch.js: progress polls pass their checks and a stream is held for its window', async () => {
    const { rt, s } = run('progress-watch.js', { STREAM_WINDOW: '2s' });
    const data = s.setup();
    s.poll(data);
    s.poll(data);
    s.stream(data);
    expect(failedChecks(rt)).toEqual([]);
    expect(rt.samples.get('stream_ok')).toEqual([true]);
    expect(rt.samples.get('stream_held_ms')![0]).toBeGreaterThanOrEqual(1800);
    s.teardown(data);
    expect((await api('GET', `/api/v1/campaigns/${data.campaign}`)).status).toBe('halted');
    expect(resultsOf(s, data)).not.toContain(adminKey);
  }, 120_000);

  it('migration-scale.js: starts a campaign over the population and sees it settle', async () => {
    const { rt, s } = run('migration-scale.js', { CAMPAIGN_KEY: 'k6-migration-live', POLL_INTERVAL: '1s', MAX_DURATION: '3m' });
    const data = s.setup();
    s.migrate(data);
    expect(failedChecks(rt)).toEqual([]);
    const p = await api('GET', '/api/v1/campaigns/k6-migration-live/progress');
    const seen = { completed: rt.samples.get('migration_completed'), counts: p.counts, backlog: p.backlog, status: p.campaign?.status };
    expect(seen).toEqual({ ...seen, completed: [true] });
    expect(rt.samples.get('migration_failure_ratio')).toEqual([0]);
    expect(rt.samples.get('migration_users_enabled')![0]).toBeGreaterThan(1500);
    expect(rt.samples.get('migration_users_per_second')![0]).toBeGreaterThan(0);
    s.teardown(data);
    expect((await api('GET', '/api/v1/campaigns/k6-migration-live')).status).toBe('completed');
  }, 240_000);
});
