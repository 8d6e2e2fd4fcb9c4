// Kill switch under load: evaluation load at a constant arrival rate plus WATCHERS virtual
// users that each evaluate the flag every POLL_MS; KILL_AFTER into the run one VU kills the
// flag through the admin API. Measured per watcher: time from sending the kill to the first
// DISABLED answer it gets (`kill_propagation_ms`; its max is "every VU sees DISABLED"),
// answers that were not DISABLED after a watcher had seen DISABLED (`kill_flapped`), and
// that every watcher saw DISABLED at all (`kill_watchers_disabled`). The teardown revives the
// flag and revokes the evaluator key it created. Times are from the k6 clock only (no server clock), so they hold when k6 runs on
// another machine; they include up to one POLL_MS plus one request latency of sampling.
//   k6 run -e BASE_URL=... -e API_KEY=co_... load-tests/kill-switch.js
// Knobs: RATE (200), DURATION (40s), VUS (30), MAX_VUS (100), WATCHERS (20), POLL_MS (25),
// KILL_AFTER (15s), FLAG_KEY (k6-kill-switch), KEY_SPACE, targets PROPAGATION_MS (1000),
// P99_MS (50), ERROR_RATE (0.001).
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { TREND_STATS, droppedIterationsGuard, durationSeconds, envDuration, envInt, envNumber, envString } from './lib/config.js';
import { ensureFlag, killFlag, reviveFlag } from './lib/admin.js';
import { evaluatorKey, releaseEvaluatorKey } from './lib/keys.js';
import { evaluateFlag, isOfrepSuccess, randomTargetingKey } from './lib/ofrep.js';
import { summaryOutputs } from './lib/summary.js';

const RATE = envInt('RATE', 200, 1);
const DURATION = envDuration('DURATION', '40s');
const WATCHERS = envInt('WATCHERS', 20, 1);
const POLL_MS = envInt('POLL_MS', 25, 1);
const KILL_AFTER = envDuration('KILL_AFTER', '15s');
const FLAG_KEY = envString('FLAG_KEY', 'k6-kill-switch');

const propagation = new Trend('kill_propagation_ms', true);
const killRequest = new Trend('kill_request_ms', true);
const sendLag = new Trend('kill_send_lag_ms', true);
const watchersDisabled = new Counter('kill_watchers_disabled');
const flapped = new Counter('kill_flapped');
const killsSent = new Counter('kill_sent');

if (durationSeconds(KILL_AFTER) >= durationSeconds(DURATION)) throw new Error('KILL_AFTER must be shorter than DURATION');

export const options = {
  scenarios: {
    load: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: envInt('VUS', 30, 1),
      maxVUs: envInt('MAX_VUS', 100, 1),
      exec: 'load',
    },
    watchers: { executor: 'constant-vus', vus: WATCHERS, duration: DURATION, exec: 'watch' },
    kill: { executor: 'shared-iterations', vus: 1, iterations: 1, maxDuration: DURATION, exec: 'kill' },
  },
  thresholds: {
    kill_propagation_ms: [`max<${envNumber('PROPAGATION_MS', 1000)}`],
    kill_watchers_disabled: [`count>=${WATCHERS}`],
    kill_flapped: ['count==0'],
    kill_sent: ['count==1'],
    'http_req_duration{endpoint:ofrep_single}': [`p(99)<${envNumber('P99_MS', 50)}`],
    'http_req_failed{endpoint:ofrep_single}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    'http_req_failed{endpoint:ofrep_watch}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    checks: ['rate>0.999'],
    dropped_iterations: [droppedIterationsGuard(RATE * durationSeconds(DURATION))],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

/** @typedef {{ evalKey: string, evalKeyId: string | null, flagKey: string, killAt: number }} Data */

/** @returns {Data} */
export function setup() {
  ensureFlag(FLAG_KEY, 1000000); // everyone `on` before the kill, so DISABLED can only come from the kill
  const k = evaluatorKey('kill-switch');
  // Scenarios start right after setup returns: the kill is due KILL_AFTER from now.
  return { evalKey: k.key, evalKeyId: k.id, flagKey: FLAG_KEY, killAt: Date.now() + durationSeconds(KILL_AFTER) * 1000 };
}

/** @param {Data} data */
export function load(data) {
  const r = evaluateFlag(data.evalKey, data.flagKey, randomTargetingKey());
  check(r, { 'load: OFREP answer': (x) => x.status === 200 && isOfrepSuccess(x.body, data.flagKey) }, { endpoint: 'ofrep_single' });
}

/** Per watcher VU (module state is per VU in k6): its user, and when it first saw DISABLED. */
let sawDisabledAt = 0;
let watcherKey = '';

/** @param {Data} data */
export function watch(data) {
  if (!watcherKey) watcherKey = randomTargetingKey();
  const sentAt = Date.now();
  const r = evaluateFlag(data.evalKey, data.flagKey, watcherKey, 'ofrep_watch');
  const disabled = r.status === 200 && r.body && r.body.reason === 'DISABLED' && r.body.value === false;
  check(r, { 'watch: OFREP answer': (x) => x.status === 200 && isOfrepSuccess(x.body, data.flagKey) }, { endpoint: 'ofrep_watch' });
  if (sentAt < data.killAt) {
    check(r, { 'watch: not DISABLED before the kill': () => !disabled }, { endpoint: 'ofrep_watch' });
  } else if (disabled && sawDisabledAt === 0) {
    sawDisabledAt = Date.now();
    propagation.add(sawDisabledAt - data.killAt);
    watchersDisabled.add(1);
  } else if (!disabled && sawDisabledAt > 0 && r.status === 200) {
    flapped.add(1);
  }
  sleep(POLL_MS / 1000);
}

/** @param {Data} data */
export function kill(data) {
  const wait = data.killAt - Date.now();
  if (wait > 0) sleep(wait / 1000);
  const start = Date.now();
  sendLag.add(start - data.killAt);
  killFlag(data.flagKey, 'k6 kill-switch scenario');
  killRequest.add(Date.now() - start);
  killsSent.add(1);
}

/** @param {Data} data */
export function teardown(data) {
  reviveFlag(data.flagKey, 'k6 kill-switch scenario finished');
  releaseEvaluatorKey({ key: data.evalKey, id: data.evalKeyId });
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryOutputs('kill-switch', data);
}
