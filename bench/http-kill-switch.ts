/**
 * Node equivalent of load-tests/kill-switch.js: two API processes under OFREP evaluation
 * load (autocannon), WATCHERS clients per process polling the flag every POLL_MS; the flag
 * is killed through the admin API of the first process and, per cycle, the time from
 * sending the kill until each watcher gets DISABLED is recorded (the max per cycle is "every
 * client sees DISABLED"); then it is revived the same way. Same-run baseline: one-way Redis
 * pub/sub latency on the same Redis (the transport floor of a change notification) and the
 * kill request's own round trip.   npm run bench:kill-switch
 */
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { runLoad } from './http-autocannon';
import { isOfrepSuccess } from './http-checks';
import { createFlag, evaluateRequest, evaluatorKey, firstEvaluation, randomKey } from './http-evaluate';
import { Stack, WARM_UP_S, call, expectOk, percentile, printTable, runMain, type Api } from './http-support';

const FLAG = 'bench-kill-switch';
const CYCLES = Number(process.env.BENCH_KILL_CYCLES ?? 10);
const WATCHERS = Number(process.env.BENCH_KILL_WATCHERS ?? 10); // per API process
const POLL_MS = 10;
const LOAD_RATE = Number(process.env.BENCH_KILL_LOAD_RATE ?? 300); // evaluations/s per process in the background
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Watcher {
  api: Api;
  key: string;
  seenAt: number | null;
}

interface Phase {
  /** 'kill': waiting for DISABLED; 'revive': waiting for anything else */
  want: 'kill' | 'revive' | null;
  since: number;
  flaps: number;
  badAnswers: number;
  stop: boolean;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function watch(w: Watcher, evalKey: string, phase: Phase): Promise<void> {
  while (!phase.stop) {
    const res = await fetch(`${w.api.url}/ofrep/v1/evaluate/flags/${FLAG}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${evalKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ context: { targetingKey: w.key } }),
    });
    const body: any = await res.json().catch(() => null);
    const now = performance.now();
    if (res.status !== 200 || !isOfrepSuccess(body, FLAG)) phase.badAnswers++;
    const disabled = body?.reason === 'DISABLED';
    if (phase.want !== null) {
      const reached = phase.want === 'kill' ? disabled : !disabled;
      if (reached && w.seenAt === null) w.seenAt = now;
      else if (!reached && w.seenAt !== null) phase.flaps++;
    }
    await sleep(POLL_MS);
  }
}

async function flagAction(api: Api, adminKey: string, action: 'kill' | 'revive'): Promise<void> {
  const current = await call(api.url, 'GET', `/api/v1/flags/${FLAG}`, { key: adminKey });
  const r = await call(api.url, 'POST', `/api/v1/flags/${FLAG}/${action}`, { key: adminKey, body: { reason: `bench ${action}` }, headers: { 'if-match': current.headers.get('etag')! } });
  expectOk(r, `${action} of ${FLAG}`, [200]);
}

/** One phase: send the action, wait until every watcher saw its effect (10 s at most). */
async function cycle(api: Api, adminKey: string, action: 'kill' | 'revive', watchers: Watcher[], phase: Phase) {
  for (const w of watchers) w.seenAt = null;
  phase.since = performance.now();
  phase.want = action;
  await flagAction(api, adminKey, action);
  const requestMs = performance.now() - phase.since;
  const until = performance.now() + 10_000;
  while (watchers.some((w) => w.seenAt === null) && performance.now() < until) await sleep(5);
  phase.want = null;
  const seen = watchers.filter((w) => w.seenAt !== null).map((w) => w.seenAt! - phase.since);
  return { requestMs, seen, missed: watchers.length - seen.length };
}

async function redisPubSubBaseline(samples: number): Promise<number[]> {
  const sub = new Redis(REDIS);
  const pub = new Redis(REDIS);
  const channel = `bench-kill-baseline-${process.pid}`;
  const out: number[] = [];
  let resolveOne: (() => void) | null = null;
  let sentAt = 0;
  sub.on('message', () => {
    out.push(performance.now() - sentAt);
    resolveOne?.();
  });
  await sub.subscribe(channel);
  for (let i = 0; i < samples; i++) {
    const got = new Promise<void>((ok) => (resolveOne = ok));
    sentAt = performance.now();
    await pub.publish(channel, String(i));
    await got;
    await sleep(POLL_MS);
  }
  await sub.quit();
  await pub.quit();
  return out;
}

function row(name: string, xs: number[], baselineP50: number, extra = ''): Array<string | number> {
  const s = [...xs].sort((a, b) => a - b);
  return [name, percentile(s, 50), percentile(s, 99), s[s.length - 1] ?? NaN, s.length, `${(percentile(s, 50) / baselineP50).toFixed(1)}×${extra}`];
}

export async function benchKillSwitch(): Promise<{ rows: Array<Array<string | number>>; notes: string[] }> {
  const stack = await Stack.create();
  try {
    const [a, b] = [await stack.startApi(), await stack.startApi()];
    await createFlag(a, stack.adminKey, FLAG, 1_000_000);
    const evalKey = await evaluatorKey(a, stack.adminKey);
    await firstEvaluation(a, evalKey, FLAG);
    await firstEvaluation(b, evalKey, FLAG);
    const watchers: Watcher[] = [a, b].flatMap((api) => Array.from({ length: WATCHERS }, () => ({ api, key: randomKey(), seenAt: null })));
    const phase: Phase = { want: null, since: 0, flaps: 0, badAnswers: 0, stop: false };
    const loops = watchers.map((w) => watch(w, evalKey, phase));
    const loadSeconds = CYCLES * 3 + WARM_UP_S + 10;
    const check = (status: number) => status === 200;
    const background = [a, b].map((api) => runLoad(api.url, [evaluateRequest(FLAG, evalKey)], check, { connections: 10, duration: loadSeconds, overallRate: LOAD_RATE }));
    await sleep(WARM_UP_S * 1000);
    const kill: number[] = [];
    const everyone: number[] = [];
    const revive: number[] = [];
    const killRequest: number[] = [];
    const afterAnswer: number[] = [];
    let missed = 0;
    for (let i = 0; i < CYCLES; i++) {
      const k = await cycle(a, stack.adminKey, 'kill', watchers, phase);
      kill.push(...k.seen);
      killRequest.push(k.requestMs);
      if (k.seen.length > 0) everyone.push(Math.max(...k.seen));
      // what remains once the admin call has answered (its commit is inside that call)
      if (k.seen.length > 0) afterAnswer.push(Math.max(0, Math.max(...k.seen) - k.requestMs));
      missed += k.missed;
      await sleep(500);
      const r = await cycle(a, stack.adminKey, 'revive', watchers, phase);
      revive.push(...r.seen);
      missed += r.missed;
      await sleep(500);
    }
    phase.stop = true;
    const loads = await Promise.all(background);
    await Promise.all(loops);
    const pubsub = await redisPubSubBaseline(200);
    const base = percentile([...pubsub].sort((x, y) => x - y), 50);
    const rows = [
      row('kill → a watcher sees DISABLED', kill, base),
      row('kill → every watcher sees DISABLED (per cycle)', everyone, base),
      row('kill answered → every watcher sees DISABLED', afterAnswer, base),
      row('revive → a watcher sees it on again', revive, base),
      row('kill request round trip (admin API)', killRequest, base),
      row('baseline: Redis pub/sub one-way', pubsub, base),
    ];
    const notes = [
      `${CYCLES} cycles, ${watchers.length} watchers (${WATCHERS} per API process, 2 processes) polling every ${POLL_MS} ms; kill/revive sent to process 1.`,
      `background load: ${loads.map((l) => `${Math.round(l.reqPerSec)} req/s (p99 ${l.p99} ms, ${l.failedChecks} non-200)`).join(' and ')}.`,
      `watchers that never saw the change within 10 s: ${missed}; flaps (old answer after the new one): ${phase.flaps}; malformed answers: ${phase.badAnswers}.`,
    ];
    return { rows, notes };
  } finally {
    await stack.stop();
  }
}

export const KILL_HEADER = ['measurement', 'p50 ms', 'p99 ms', 'max ms', 'samples', 'p50 vs pub/sub'];

if (require.main === module) {
  runMain(async () => {
    const { rows, notes } = await benchKillSwitch();
    printTable('Kill switch propagation under evaluation load (two API processes)', KILL_HEADER, rows);
    process.stdout.write(`${notes.join('\n')}\n`);
  });
}
