// OFREP single-flag evaluation at a constant arrival rate over a large key space.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e API_KEY=co_... load-tests/evaluate.js
// Knobs: RATE (req/s, 500), DURATION (1m), VUS (50), MAX_VUS (200), FLAG_KEY (k6-evaluate),
// ROLLOUT_PPM (500000), KEY_SPACE (1e9), targets P95_MS (25), P99_MS (50), ERROR_RATE (0.001).
import { check } from 'k6';
import { BASE_URL, TREND_STATS, droppedIterationsGuard, durationSeconds, envDuration, envInt, envNumber, envString } from './lib/config.js';
import { ensureFlag } from './lib/admin.js';
import { evaluatorKey, releaseEvaluatorKey } from './lib/keys.js';
import { evaluateFlag, isOfrepSuccess, randomTargetingKey } from './lib/ofrep.js';
import { summaryOutputs } from './lib/summary.js';

const RATE = envInt('RATE', 500, 1);
const DURATION = envDuration('DURATION', '1m');
const FLAG_KEY = envString('FLAG_KEY', 'k6-evaluate');
const ROLLOUT_PPM = envInt('ROLLOUT_PPM', 500000);

export const options = {
  scenarios: {
    evaluate: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: envInt('VUS', 50, 1),
      maxVUs: envInt('MAX_VUS', 200, 1),
      exec: 'evaluate',
    },
  },
  thresholds: {
    'http_req_duration{endpoint:ofrep_single}': [`p(95)<${envNumber('P95_MS', 25)}`, `p(99)<${envNumber('P99_MS', 50)}`],
    'http_req_failed{endpoint:ofrep_single}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    'checks{endpoint:ofrep_single}': ['rate>0.999'],
    dropped_iterations: [droppedIterationsGuard(RATE * durationSeconds(DURATION))],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '60s',
};

/** @typedef {{ evalKey: string, evalKeyId: string | null, flagKey: string }} Data */

/** @returns {Data} */
export function setup() {
  ensureFlag(FLAG_KEY, ROLLOUT_PPM);
  console.log(`evaluate: ${RATE} req/s for ${DURATION} on flag ${FLAG_KEY} at ${BASE_URL}`);
  const k = evaluatorKey('evaluate');
  return { evalKey: k.key, evalKeyId: k.id, flagKey: FLAG_KEY };
}

/** @param {Data} data */
export function evaluate(data) {
  const r = evaluateFlag(data.evalKey, data.flagKey, randomTargetingKey());
  check(
    r,
    {
      'evaluate: 200': (x) => x.status === 200,
      'evaluate: OFREP body for the flag': (x) => isOfrepSuccess(x.body, data.flagKey),
    },
    { endpoint: 'ofrep_single' },
  );
}

/** @param {Data} data */
export function teardown(data) {
  releaseEvaluatorKey({ key: data.evalKey, id: data.evalKeyId });
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryOutputs('evaluate', data);
}
