/**
 * Node equivalent of load-tests/evaluate.js: OFREP single-flag evaluation over random
 * targeting keys from a 1bn key space, every answer checked, next to a bare node:http
 * server answering the same JSON in the same run.   npm run bench:evaluate
 */
import { compareRuns, runLoad, type AcRequest, type LoadResult } from './http-autocannon';
import { isOfrepSuccess, parseJson } from './http-checks';
import { runShape, Stack, WARM_UP_S, call, expectOk, printTable, runMain, startBaseline, type Api } from './http-support';

export const FLAG = 'bench-evaluate';
const KEY_SPACE = 1_000_000_000;

export function randomKey(): string {
  return String(1 + Math.floor(Math.random() * KEY_SPACE));
}

/** Creates a boolean flag through the admin API (as load-tests/lib/admin.js ensureFlag does). */
export async function createFlag(api: Api, adminKey: string, key: string, rolloutPpm: number): Promise<void> {
  const body = { key, kind: 'boolean', variants: { on: true, off: false }, offVariant: 'off', rolloutVariant: 'on', rolloutPpm };
  expectOk(await call(api.url, 'POST', '/api/v1/flags', { key: adminKey, body }), `creating flag ${key}`);
}

export async function evaluatorKey(api: Api, adminKey: string): Promise<string> {
  const r = await call(api.url, 'POST', '/api/v1/keys', { key: adminKey, body: { name: 'bench evaluator', role: 'evaluator' } });
  return expectOk(r, 'creating an evaluator key').key;
}

/** Evaluates until the flag is in the API's snapshot; returns one answer body. */
export async function firstEvaluation(api: Api, evalKey: string, flag: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const r = await call(api.url, 'POST', `/ofrep/v1/evaluate/flags/${flag}`, { key: evalKey, body: { context: { targetingKey: '42' } } });
    if (r.status === 200) return JSON.stringify(r.body);
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`flag ${flag} never evaluated`);
}

export function evaluateRequest(flag: string, evalKey: string): AcRequest {
  return {
    method: 'POST',
    path: `/ofrep/v1/evaluate/flags/${flag}`,
    headers: { authorization: `Bearer ${evalKey}`, 'content-type': 'application/json' },
    body: '{"context":{"targetingKey":"1"}}',
    setupRequest: (req) => ({ ...req, body: JSON.stringify({ context: { targetingKey: randomKey() } }) }),
  };
}

export function resultRow(scenario: string, server: string, r: LoadResult, baseline?: LoadResult): Array<string | number> {
  const x = baseline ? r.reqPerSec / baseline.reqPerSec : 1;
  const ratio = `${x.toFixed(x < 0.1 ? 3 : 2)}×`;
  return [scenario, server, Math.round(r.reqPerSec), r.p50, r.p99, `${r.checked - r.failedChecks}/${r.checked}`, r.errors, ratio];
}

export const RESULT_HEADER = ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'checks ok', 'errors', 'vs baseline'];

export async function benchEvaluate(): Promise<Array<Array<string | number>>> {
  const stack = await Stack.create();
  try {
    const api = await stack.startApi();
    await createFlag(api, stack.adminKey, FLAG, 500_000);
    const evalKey = await evaluatorKey(api, stack.adminKey);
    const sample = await firstEvaluation(api, evalKey, FLAG);
    const check = (status: number, body: string) => status === 200 && isOfrepSuccess(parseJson(body), FLAG);
    await runLoad(api.url, [evaluateRequest(FLAG, evalKey)], check, { duration: WARM_UP_S }); // JIT and caches: the first seconds of a fresh process run several times slower
    const base = await startBaseline({ status: 200, body: sample });
    const { real, bare } = await compareRuns(
      (duration) => runLoad(api.url, [evaluateRequest(FLAG, evalKey)], check, { duration }),
      (duration) => runLoad(base.url, [evaluateRequest(FLAG, evalKey)], check, { duration }),
    );
    await base.stop();
    if (real.failedChecks > 0) process.stderr.write(`evaluate: first failed check: ${real.firstFailure}\n`);
    return [resultRow('evaluate', 'Cutover API', real, bare), resultRow('evaluate', 'bare node:http', bare)];
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  runMain(async () => {
    const rows = await benchEvaluate();
    printTable(`OFREP single-flag evaluation, ${runShape()}`, RESULT_HEADER, rows);
  });
}
