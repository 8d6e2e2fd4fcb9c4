/** The HTTP parts of `npm run bench:eval`: autocannon runs and kill propagation. */
import { call, cpuSeconds } from './eval-support';

interface AcResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
// autocannon is CommonJS without types; the subset used is typed above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AcResult>;

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const BULK_FLAGS = 20;
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 4);

/**
 * Distinct users, as pre-built requests: autocannon builds a static request's bytes once, so
 * the load generator (which shares the two cores with the servers) costs little per request.
 * A `setupRequest` that builds a random body per request made autocannon the bottleneck.
 */
const USERS_PER_CONNECTION = 2_000;
const bodies = Array.from({ length: USERS_PER_CONNECTION }, () =>
  JSON.stringify({ context: { targetingKey: String(1 + Math.floor(Math.random() * 1e9)), country: 'DE', appVersion: '5.4.1' } }),
);

async function until(fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition never met');
}

/** Creates the bench flags and waits until both APIs evaluate them; returns sample bodies for the bare server. */
export async function prepareFlags(a: string, b: string, adminKey: string, evalKey: string): Promise<{ single: string; bulk: string }> {
  await call(a, 'POST', '/api/v1/flags', adminKey, { key: 'bench.single', rolloutPercent: 30 });
  await call(a, 'POST', '/api/v1/flags', adminKey, { key: 'bench.kill', rolloutPercent: 100 });
  for (let i = 0; i < BULK_FLAGS - 2; i++) {
    const rules = i % 2 ? [{ conditions: [{ attribute: 'country', operator: 'in', values: ['DE', 'AT'] }], variant: 'on' }] : [];
    await call(a, 'POST', '/api/v1/flags', adminKey, { key: `bench.bulk-${i}`, rolloutPercent: 5 * i, rules });
  }
  const bulkCount = async (api: string) => (await call(api, 'POST', '/ofrep/v1/evaluate/flags', evalKey, { context: { targetingKey: '1' } })).json.flags.length as number;
  await until(async () => (await bulkCount(a)) === BULK_FLAGS && (await bulkCount(b)) === BULK_FLAGS);
  const body = { context: { targetingKey: '123456789', country: 'DE', appVersion: '5.4.1' } };
  return {
    single: (await call(a, 'POST', '/ofrep/v1/evaluate/flags/bench.single', evalKey, body)).text,
    bulk: (await call(a, 'POST', '/ofrep/v1/evaluate/flags', evalKey, body)).text,
  };
}

async function load(url: string, path: string, key: string, duration = DURATION_S): Promise<AcResult> {
  return autocannon({
    url,
    connections: 50,
    duration,
    requests: bodies.map((body) => ({ method: 'POST', path, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body })),
  });
}

/** One measured run plus the server process's CPU time per request (robust to other load on the machine). */
async function measured(url: string, pid: number, path: string, key: string): Promise<AcResult & { cpuUs: number }> {
  const c0 = cpuSeconds(pid);
  const r = await load(url, path, key);
  return { ...r, cpuUs: ((cpuSeconds(pid) - c0) * 1e6) / Math.max(1, r.requests.total) };
}

export async function loadRows(api: string, bare: string, pids: Map<string, number>, key: string): Promise<Array<Array<string | number>>> {
  const rows: Array<Array<string | number>> = [];
  const endpoints = [['single', '/ofrep/v1/evaluate/flags/bench.single'], [`bulk (${BULK_FLAGS} flags)`, '/ofrep/v1/evaluate/flags']];
  // warm both servers on both endpoints first, so that no measured run pays for JIT compilation
  for (const [, path] of endpoints) for (const url of [bare, api]) await load(url, path, key, WARMUP_S);
  for (const [name, path] of endpoints) {
    const base = await measured(bare, pids.get(bare)!, path, key);
    const real = await measured(api, pids.get(api)!, path, key);
    const row = (server: string, r: AcResult & { cpuUs: number }, ratio: string, cpuRatio: string) =>
      [name, server, Math.round(r.requests.average), r.latency.p50, r.latency.p99, r.non2xx + r.errors, r.cpuUs.toFixed(1), ratio, cpuRatio];
    rows.push(
      row('bare Fastify', base, '1.00×', '1.00×'),
      row('Cutover OFREP', real, `${(real.requests.average / base.requests.average).toFixed(2)}×`, `${(base.cpuUs / real.cpuUs).toFixed(2)}×`),
    );
  }
  return rows;
}

/** Kills/revives `bench.kill` on API a; measures until API b's OFREP event stream sends the refetchEvaluation naming it. */
export async function killPropagation(a: string, b: string, adminKey: string, evalKey: string, rounds = 200): Promise<number[]> {
  const ac = new AbortController();
  const res = await fetch(`${b}/ofrep/v1/events`, { headers: { authorization: `Bearer ${evalKey}` }, signal: ac.signal });
  const reader = res.body!.getReader();
  const waiter: { resolve: (() => void) | null } = { resolve: null };
  let buffer = '';
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += Buffer.from(value!).toString();
      const events = buffer.split('\n\n');
      buffer = events.pop()!;
      if (events.some((e) => e.includes('"refetchEvaluation"') && e.includes('"bench.kill"'))) waiter.resolve?.();
    }
  })();
  const out: number[] = [];
  try {
    let version = (await call(a, 'GET', '/api/v1/flags/bench.kill', adminKey)).json.version as number;
    for (let i = 0; i < rounds; i++) {
      const seen = new Promise<void>((r) => (waiter.resolve = r));
      const t0 = performance.now();
      const action = i % 2 === 0 ? 'kill' : 'revive';
      const r = await call(a, 'POST', `/api/v1/flags/bench.kill/${action}`, adminKey, { reason: 'bench propagation' }, { 'if-match': `"${version}"` });
      version = r.json.version;
      await seen;
      out.push(performance.now() - t0);
    }
  } finally {
    ac.abort();
    await pump;
  }
  return out;
}
