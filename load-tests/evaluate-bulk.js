// OFREP bulk evaluation at a constant arrival rate, with ETag revalidation: each iteration
// evaluates all flags for one user, then (share REVALIDATE_RATIO) asks again with
// `If-None-Match: <etag>` and expects 304 Not Modified (nothing changed in between).
//   k6 run -e BASE_URL=... -e API_KEY=co_... load-tests/evaluate-bulk.js
// Knobs: RATE (iterations/s, 200), DURATION (1m), VUS (50), MAX_VUS (200), FLAG_COUNT (10
// flags `<FLAG_PREFIX>-0..n`), FLAG_PREFIX (k6-bulk), REVALIDATE_RATIO (1), KEY_SPACE (1e9),
// targets P95_MS (40), P99_MS (80), ERROR_RATE (0.001), NOT_MODIFIED_RATE (0.99).
import { check } from 'k6';
import { Rate } from 'k6/metrics';
import { TREND_STATS, droppedIterationsGuard, durationSeconds, envDuration, envInt, envNumber, envString } from './lib/config.js';
import { ensureFlag } from './lib/admin.js';
import { evaluatorKey, releaseEvaluatorKey } from './lib/keys.js';
import { evaluateBulk, isOfrepSuccess, randomTargetingKey } from './lib/ofrep.js';
import { summaryOutputs } from './lib/summary.js';

const RATE = envInt('RATE', 200, 1);
const DURATION = envDuration('DURATION', '1m');
const FLAG_COUNT = envInt('FLAG_COUNT', 10, 1);
const FLAG_PREFIX = envString('FLAG_PREFIX', 'k6-bulk');
const REVALIDATE_RATIO = envNumber('REVALIDATE_RATIO', 1, 0, 1);
const P95 = envNumber('P95_MS', 40);
const P99 = envNumber('P99_MS', 80);

/** Share of revalidations answered 304 (the ETag of an unchanged flag set must match). */
const notModified = new Rate('bulk_not_modified');

export const options = {
  scenarios: {
    bulk: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: envInt('VUS', 50, 1),
      maxVUs: envInt('MAX_VUS', 200, 1),
      exec: 'bulk',
    },
  },
  thresholds: {
    'http_req_duration{endpoint:ofrep_bulk}': [`p(95)<${P95}`, `p(99)<${P99}`],
    'http_req_duration{endpoint:ofrep_bulk_revalidate}': [`p(95)<${P95}`, `p(99)<${P99}`],
    'http_req_failed{endpoint:ofrep_bulk}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    'http_req_failed{endpoint:ofrep_bulk_revalidate}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    bulk_not_modified: [`rate>=${envNumber('NOT_MODIFIED_RATE', 0.99, 0, 1)}`],
    checks: ['rate>0.999'],
    dropped_iterations: [droppedIterationsGuard(RATE * durationSeconds(DURATION))],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '120s',
};

/** @typedef {{ evalKey: string, evalKeyId: string | null, flagKeys: string[] }} Data */

/** @returns {Data} */
export function setup() {
  /** @type {string[]} */
  const flagKeys = [];
  for (let i = 0; i < FLAG_COUNT; i++) {
    const key = `${FLAG_PREFIX}-${i}`;
    ensureFlag(key, Math.round(((i + 1) * 1000000) / (FLAG_COUNT + 1)));
    flagKeys.push(key);
  }
  const k = evaluatorKey('evaluate-bulk');
  return { evalKey: k.key, evalKeyId: k.id, flagKeys };
}

/**
 * Every flag of the set is in the bulk answer, each a well-formed OFREP success.
 * @param {any} body
 * @param {string[]} flagKeys
 * @returns {boolean}
 */
export function hasAllFlags(body, flagKeys) {
  if (!body || !Array.isArray(body.flags)) return false;
  /** @type {Record<string, any>} */
  const byKey = {};
  for (const f of body.flags) byKey[f.key] = f;
  return flagKeys.every((k) => isOfrepSuccess(byKey[k], k));
}

/** @param {Data} data */
export function bulk(data) {
  const targetingKey = randomTargetingKey();
  const first = evaluateBulk(data.evalKey, targetingKey, null, 'ofrep_bulk');
  check(
    first,
    {
      'bulk: 200': (x) => x.status === 200,
      'bulk: every flag evaluated': (x) => hasAllFlags(x.body, data.flagKeys),
      'bulk: ETag header': (x) => !!x.etag,
    },
    { endpoint: 'ofrep_bulk' },
  );
  if (!first.etag || Math.random() >= REVALIDATE_RATIO) return;
  const again = evaluateBulk(data.evalKey, targetingKey, first.etag, 'ofrep_bulk_revalidate');
  notModified.add(again.status === 304);
  check(
    again,
    {
      'bulk revalidate: 304 or 200': (x) => x.status === 304 || x.status === 200,
      'bulk revalidate: 304 has no body': (x) => x.status !== 304 || !x.res.body,
    },
    { endpoint: 'ofrep_bulk_revalidate' },
  );
}

/** @param {Data} data */
export function teardown(data) {
  releaseEvaluatorKey({ key: data.evalKey, id: data.evalKeyId });
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryOutputs('evaluate-bulk', data);
}
