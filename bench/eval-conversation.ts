/**
 * Conversation evaluation over HTTP next to single-user evaluation, same API, same run: a
 * 1:1 conversation (2 participants) against one user, decided in memory (a 30% rollout) and
 * through the ratchet (a killed flag whose users are all enabled: one SISMEMBER for the user,
 * one pipelined round trip for the pair).
 */
import { Redis } from 'ioredis';
import { bucketOf } from '../src/flags/bucketing';
import { REDIS } from './bench-env';
import { call, cpuSeconds } from './eval-support';

interface AcResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AcResult>;

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 4);
const PAIRS = 2_000;
const ROUNDS = Number(process.env.BENCH_CONV_ROUNDS ?? 3);
const ROUND_S = Math.max(2, Math.round(DURATION_S / 2));

const ids = Array.from({ length: PAIRS * 2 }, (_, i) => String(2_000_000_000 + i * 7919));
const single = ids.slice(0, PAIRS).map((u) => JSON.stringify({ context: { targetingKey: u, e2eeCapable: true } }));
const pairs = Array.from({ length: PAIRS }, (_, i) =>
  JSON.stringify({ context: { conversation: { id: `c${i}`, participants: [{ targetingKey: ids[2 * i], e2eeCapable: true }, { targetingKey: ids[2 * i + 1], e2eeCapable: true }] } } }),
);

/** Marks every bench user enabled for the flag in the ratchet, as a campaign's batches would, and tells the APIs. */
async function enableAll(prefix: string, flagId: string, salt: string): Promise<void> {
  const redis = new Redis(REDIS);
  const pipe = redis.pipeline();
  for (const u of ids) {
    const bucket = bucketOf(salt, u);
    pipe.sadd(`${prefix}:ratchet:${flagId}:u:${bucket}:${BigInt(u) % 4n}`, u);
    pipe.setbit(`${prefix}:ratchet:${flagId}:buckets`, bucket, 1);
  }
  pipe.set(`${prefix}:ratchet:${flagId}:synced`, String(Date.now()));
  await pipe.exec();
  await redis.publish(`${prefix}:ratchet:changed`, JSON.stringify({ f: flagId }));
  await redis.quit();
}

async function measured(url: string, pid: number, path: string, key: string, bodies: string[], duration = DURATION_S) {
  const requests = bodies.map((body) => ({ method: 'POST', path, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body }));
  const c0 = cpuSeconds(pid);
  const r = await autocannon({ url, connections: 50, duration, requests });
  return { ...r, cpuUs: ((cpuSeconds(pid) - c0) * 1e6) / Math.max(1, r.requests.total) };
}

export async function conversationRows(api: string, pid: number, adminKey: string, evalKey: string, prefix: string): Promise<Array<Array<string | number>>> {
  await call(api, 'POST', '/api/v1/flags', adminKey, { key: 'bench.conv', rolloutPercent: 30 });
  const ratchet = (await call(api, 'POST', '/api/v1/flags', adminKey, { key: 'bench.conv-killed', rolloutPercent: 100 })).json;
  await call(api, 'POST', '/api/v1/flags/bench.conv-killed/kill', adminKey, { reason: 'bench: every answer from the ratchet' }, { 'if-match': '"1"' });
  await enableAll(prefix, ratchet.id as string, ratchet.salt as string);
  const probe = () => call(api, 'POST', '/ofrep/v1/evaluate/flags/bench.conv-killed', evalKey, JSON.parse(pairs[0]));
  for (let i = 0; i < 500 && (await probe()).json.value !== true; i++) await new Promise((r) => setTimeout(r, 20));
  const cases: Array<[string, string, string[], string, string[]]> = [
    ['30% rollout (in memory)', 'bench.conv', single, 'bench.conv', pairs],
    ['killed flag, all from the ratchet (1 SISMEMBER vs 1 script call)', 'bench.conv-killed', single, 'bench.conv-killed', pairs],
  ];
  const rows: Array<Array<string | number>> = [];
  for (const [name, flag, one, , two] of cases) {
    const path = `/ofrep/v1/evaluate/flags/${flag}`;
    await measured(api, pid, path, evalKey, one, WARMUP_S);
    await measured(api, pid, path, evalKey, two, WARMUP_S);
    // interleaved rounds, medians: the machine's other load drifts between runs
    const a: Run[] = [];
    const b: Run[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(await measured(api, pid, path, evalKey, one, ROUND_S));
      b.push(await measured(api, pid, path, evalKey, two, ROUND_S));
    }
    const [x, y] = [summary(a), summary(b)];
    rows.push([`1 user, ${name}`, x.rate, x.p50, x.p99, x.failed, x.cpuUs.toFixed(1), '1.00×', '1.00×']);
    rows.push([`conversation of 2, ${name}`, y.rate, y.p50, y.p99, y.failed, y.cpuUs.toFixed(1), `${(y.rate / x.rate).toFixed(2)}×`, `${(x.cpuUs / y.cpuUs).toFixed(2)}×`]);
  }
  return rows;
}

type Run = AcResult & { cpuUs: number };
const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

function summary(runs: Run[]) {
  return {
    rate: Math.round(med(runs.map((r) => r.requests.average))),
    p50: med(runs.map((r) => r.latency.p50)),
    p99: med(runs.map((r) => r.latency.p99)),
    failed: runs.reduce((n, r) => n + r.non2xx + r.errors, 0),
    cpuUs: med(runs.map((r) => r.cpuUs)),
  };
}
