/** autocannon runs whose every answer is checked, as the k6 scenarios check theirs. */
import { CONNECTIONS, DURATION_S } from './http-support';

export interface AcRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AcRequest, context: Record<string, unknown>) => AcRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
}

interface AcResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
}

type Autocannon = (opts: Record<string, unknown>) => Promise<AcResult>;
// autocannon ships no types and is CommonJS; the subset used here is typed above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  total: number;
  errors: number;
  checked: number;
  failedChecks: number;
  statuses: Record<number, number>;
  firstFailure?: string;
}

/**
 * Runs autocannon against `url` with `requests`; `check(status, body, headers)` judges every
 * answer. `connections` and `duration` default to BENCH_CONNECTIONS / BENCH_DURATION_S.
 */
export async function runLoad(
  url: string,
  requests: AcRequest[],
  check: (status: number, body: string, headers: Record<string, string>) => boolean,
  opts: { connections?: number; duration?: number; overallRate?: number } = {},
): Promise<LoadResult> {
  const out: LoadResult = { reqPerSec: 0, p50: 0, p99: 0, total: 0, errors: 0, checked: 0, failedChecks: 0, statuses: {} };
  const checked = requests.map((r) => ({
    ...r,
    onResponse: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => {
      r.onResponse?.(status, body, context, headers);
      out.checked++;
      out.statuses[status] = (out.statuses[status] ?? 0) + 1;
      if (!check(status, body, headers)) {
        out.failedChecks++;
        out.firstFailure ??= `${status} ${String(body).slice(0, 200)}`;
      }
    },
  }));
  const result = await autocannon({
    url,
    connections: opts.connections ?? CONNECTIONS,
    duration: opts.duration ?? DURATION_S,
    requests: checked,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
  });
  out.reqPerSec = result.requests.average;
  out.p50 = result.latency.p50;
  out.p99 = result.latency.p99;
  out.total = result.requests.total;
  out.errors = result.errors + result.timeouts;
  return out;
}

/** autocannon hands headers over as a flat object or [name, value, ...] list, depending on version. */
export function headerOf(headers: Record<string, string> | string[] | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (headers[i].toLowerCase() === name) return headers[i + 1];
    return undefined;
  }
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** Rounds per side in compareRuns (BENCH_ROUNDS). */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function mergeRounds(results: LoadResult[]): LoadResult {
  const byRate = [...results].sort((a, b) => a.reqPerSec - b.reqPerSec);
  const median = byRate[Math.floor(byRate.length / 2)];
  const statuses: Record<number, number> = {};
  for (const r of results) for (const [s, n] of Object.entries(r.statuses)) statuses[Number(s)] = (statuses[Number(s)] ?? 0) + n;
  return {
    ...median,
    total: results.reduce((a, r) => a + r.total, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    checked: results.reduce((a, r) => a + r.checked, 0),
    failedChecks: results.reduce((a, r) => a + r.failedChecks, 0),
    statuses,
    firstFailure: results.find((r) => r.firstFailure)?.firstFailure,
  };
}

/**
 * The server under test and its baseline, alternately, ROUNDS times each (each run
 * BENCH_DURATION_S / ROUNDS long), so that a machine whose load changes during the bench
 * (other work on the same cores) weighs on both sides alike; each side reports its median
 * round (by req/s) and the checks of all rounds.
 */
export async function compareRuns(
  real: (duration: number) => Promise<LoadResult>,
  bare: (duration: number) => Promise<LoadResult>,
  minRoundS = 2,
): Promise<{ real: LoadResult; bare: LoadResult }> {
  const duration = Math.max(minRoundS, Math.round(DURATION_S / ROUNDS));
  const r: LoadResult[] = [];
  const b: LoadResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    r.push(await real(duration));
    b.push(await bare(duration));
  }
  return { real: mergeRounds(r), bare: mergeRounds(b) };
}
