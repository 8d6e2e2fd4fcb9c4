// A storm of opt-ins at a ramping arrival rate, including repeats of the same user: a repeat
// must get the same answer as the first call (opt-in is idempotent) and never a 5xx.
// Needs a seeded population (`cutover users seed --count N`) whose ids are in
// [USER_ID_MIN, USER_ID_MAX]. setup() creates (or reuses) flag + campaign CAMPAIGN_KEY with a
// 0% rollout and starts it, so every admitted user comes from an opt-in, and waits (up to
// MATERIALIZE_WAIT) until the worker has materialised the campaign's population: opt-ins that
// overlap materialisation measure that (they queue behind its chunks), not the storm. The
// teardown halts the campaign (a CAMPAIGN_KEY you gave only when this run started it).
//   k6 run -e BASE_URL=... -e API_KEY=co_... load-tests/opt-in-storm.js
// Knobs: START_RATE (10/s), PEAK_RATE (300/s), RAMP_UP (30s), HOLD (1m), RAMP_DOWN (15s),
// VUS (50), MAX_VUS (300), REPEAT_RATIO (0.2), MAX_REPEATS (2 per user: stays under the
// per-user opt-in limit), USER_ID_MIN (1), USER_ID_MAX (100000), CAMPAIGN_KEY (k6-opt-in),
// MATERIALIZE_WAIT (240s), targets P95_MS (100), P99_MS (250), ERROR_RATE (0.001).
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { TREND_STATS, droppedIterationsGuard, durationSeconds, envDuration, envInt, envNumber, envString, randomInt } from './lib/config.js';
import { ensureCampaign, ensureFlag, ensureRunning, stopCampaign, waitMaterialized, warnRealCampaign } from './lib/admin.js';
import { apiKey, request } from './lib/http.js';
import { STATES } from './lib/campaign.js';
import { summaryOutputs } from './lib/summary.js';

const START_RATE = envInt('START_RATE', 10, 0);
const PEAK_RATE = envInt('PEAK_RATE', 300, 1);
const RAMP_UP = envDuration('RAMP_UP', '30s');
const HOLD = envDuration('HOLD', '1m');
const RAMP_DOWN = envDuration('RAMP_DOWN', '15s');
const REPEAT_RATIO = envNumber('REPEAT_RATIO', 0.2, 0, 1);
const MAX_REPEATS = envInt('MAX_REPEATS', 2, 0);
const USER_ID_MIN = envInt('USER_ID_MIN', 1, 1);
const USER_ID_MAX = envInt('USER_ID_MAX', 100000, 1);
const GIVEN_CAMPAIGN = envString('CAMPAIGN_KEY', '');
const CAMPAIGN_KEY = GIVEN_CAMPAIGN || 'k6-opt-in';
const MATERIALIZE_WAIT = envDuration('MATERIALIZE_WAIT', '240s');

const idempotent = new Rate('opt_in_idempotent');
const rateLimited = new Counter('opt_in_rate_limited');

const planned =
  ((START_RATE + PEAK_RATE) / 2) * durationSeconds(RAMP_UP) + PEAK_RATE * durationSeconds(HOLD) + (PEAK_RATE / 2) * durationSeconds(RAMP_DOWN);

export const options = {
  scenarios: {
    storm: {
      executor: 'ramping-arrival-rate',
      startRate: START_RATE,
      timeUnit: '1s',
      preAllocatedVUs: envInt('VUS', 50, 1),
      maxVUs: envInt('MAX_VUS', 300, 1),
      stages: [
        { target: PEAK_RATE, duration: RAMP_UP },
        { target: PEAK_RATE, duration: HOLD },
        { target: 0, duration: RAMP_DOWN },
      ],
      exec: 'optIn',
    },
  },
  thresholds: {
    'http_req_duration{endpoint:opt_in}': [`p(95)<${envNumber('P95_MS', 100)}`, `p(99)<${envNumber('P99_MS', 250)}`],
    'http_req_duration{endpoint:opt_in_repeat}': [`p(95)<${envNumber('P95_MS', 100)}`],
    'http_req_failed{endpoint:opt_in}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    'http_req_failed{endpoint:opt_in_repeat}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    opt_in_idempotent: ['rate==1'],
    opt_in_rate_limited: [`count<=${envInt('RATE_LIMITED_MAX', 0)}`],
    checks: ['rate>0.999'],
    dropped_iterations: [droppedIterationsGuard(planned)],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: `${Math.ceil(durationSeconds(MATERIALIZE_WAIT)) + 60}s`,
};

/** @typedef {{ key: string, campaign: string, stopAtEnd: boolean }} Data */

/** @returns {Data} */
export function setup() {
  if (USER_ID_MAX < USER_ID_MIN) throw new Error('USER_ID_MAX must be >= USER_ID_MIN');
  ensureFlag(CAMPAIGN_KEY, 0);
  const campaign = ensureCampaign(CAMPAIGN_KEY, CAMPAIGN_KEY, { batchSize: 500, maxUsersPerSecond: 10000 });
  warnRealCampaign('opt-in-storm', CAMPAIGN_KEY);
  const { started } = ensureRunning(CAMPAIGN_KEY);
  if (!waitMaterialized(CAMPAIGN_KEY, durationSeconds(MATERIALIZE_WAIT))) {
    console.warn(`opt-in-storm: campaign ${CAMPAIGN_KEY} is not materialised yet (is a worker running?); the storm overlaps materialisation`);
  }
  // its own campaign is stopped at the end; a given one only when this run started it
  return { key: envString('OPT_IN_KEY', apiKey()), campaign: String(campaign.id), stopAtEnd: !GIVEN_CAMPAIGN || started };
}

/** @param {Data} data */
export function teardown(data) {
  if (data.stopAtEnd) stopCampaign(data.campaign, 'halt');
}

/**
 * The parts of an opt-in answer a repeat must reproduce.
 * @param {import('./lib/http.js').JsonResult} r
 * @returns {{ status: number, code: string | null, userId: string | null, state: string | null }}
 */
export function answerOf(r) {
  const b = r.body || {};
  return { status: r.status, code: b.code || null, userId: b.userId === undefined ? null : String(b.userId), state: b.state || null };
}

/**
 * A repeat is idempotent when it lands in the same status class with the same error code
 * and user, and its state is the first one or later in the ratchet (the user may have moved
 * on in between; never back).
 * @param {ReturnType<typeof answerOf>} first
 * @param {ReturnType<typeof answerOf>} again
 * @returns {boolean}
 */
export function sameAnswer(first, again) {
  if (Math.floor(first.status / 100) !== Math.floor(again.status / 100) || first.code !== again.code) return false;
  if (first.userId !== again.userId) return false;
  if (first.state === null || again.state === null) return first.state === again.state;
  const order = (/** @type {string} */ s) => (s === 'failed' || s === 'held' ? STATES.indexOf('enrolling') : STATES.indexOf(s));
  return order(again.state) >= order(first.state);
}

/** Per VU: users this VU opted in, with their first answer and how often they were repeated. */
/** @type {Array<{ userId: string, first: ReturnType<typeof answerOf>, repeats: number }>} */
const mine = [];

/**
 * @param {Data} data
 * @param {string} userId
 * @param {string} endpoint
 */
function postOptIn(data, userId, endpoint) {
  const r = request('POST', `/api/v1/campaigns/${data.campaign}/opt-in`, {
    key: data.key,
    body: { userId },
    tags: { endpoint, name: 'POST /api/v1/campaigns/:id/opt-in' },
  });
  if (r.status === 429) rateLimited.add(1);
  check(r, { [`${endpoint}: 2xx`]: (x) => x.status >= 200 && x.status < 300 }, { endpoint });
  return r;
}

/** @param {Data} data */
export function optIn(data) {
  const candidates = mine.filter((m) => m.repeats < MAX_REPEATS);
  if (candidates.length > 0 && Math.random() < REPEAT_RATIO) {
    const prior = candidates[randomInt(0, candidates.length - 1)];
    prior.repeats++;
    const again = answerOf(postOptIn(data, prior.userId, 'opt_in_repeat'));
    idempotent.add(sameAnswer(prior.first, again));
    return;
  }
  const userId = String(randomInt(USER_ID_MIN, USER_ID_MAX));
  const first = answerOf(postOptIn(data, userId, 'opt_in'));
  if (mine.length >= 1000) mine.shift();
  mine.push({ userId, first, repeats: 0 });
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryOutputs('opt-in-storm', data);
}
