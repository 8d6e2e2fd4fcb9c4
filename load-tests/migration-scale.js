// The seeded scale run: on a population seeded beforehand (`cutover users seed --count N`),
// one campaign over everybody, its admission flag ramped to 100%, started, and watched until
// it completes (or nobody is left to move). Reports users per second end to end.
// Thresholds: the campaign completed, its failure ratio, and its completion time. The
// teardown completes the campaign when it settled and halts it otherwise.
//   npx cutover users seed --count 1000000
//   k6 run -e BASE_URL=... -e API_KEY=co_... load-tests/migration-scale.js
// Knobs: CAMPAIGN_KEY (k6-migration-<timestamp>: a new campaign each run), BATCH_SIZE
// (1000), MAX_USERS_PER_SECOND (0 = unlimited, sent as 1000000), POLL_INTERVAL (2s),
// MAX_DURATION (60m), targets COMPLETION_S (1800), FAILURE_RATIO (0.01).
import { check, sleep } from 'k6';
import { Gauge, Rate, Trend } from 'k6/metrics';
import { TREND_STATS, durationSeconds, envDuration, envInt, envNumber, envString } from './lib/config.js';
import { campaignAction, ensureCampaign, ensureFlag, getProgress, stopCampaign, warnRealCampaign } from './lib/admin.js';
import { apiKey } from './lib/http.js';
import { isProgress, isSettled, stateCounts } from './lib/campaign.js';
import { summaryOutputs } from './lib/summary.js';

const POLL_INTERVAL = envDuration('POLL_INTERVAL', '2s');
const MAX_DURATION = envDuration('MAX_DURATION', '60m');

const completed = new Rate('migration_completed');
const completionS = new Trend('migration_completion_s');
const usersPerSecond = new Gauge('migration_users_per_second');
const failureRatio = new Gauge('migration_failure_ratio');
const enabledUsers = new Gauge('migration_users_enabled');
const failedUsers = new Gauge('migration_users_failed');

export const options = {
  scenarios: {
    migrate: { executor: 'shared-iterations', vus: 1, iterations: 1, maxDuration: MAX_DURATION, exec: 'migrate' },
  },
  thresholds: {
    migration_completed: ['rate==1'],
    migration_completion_s: [`max<${envNumber('COMPLETION_S', 1800)}`],
    migration_failure_ratio: [`value<=${envNumber('FAILURE_RATIO', 0.01, 0, 1)}`],
    'http_req_failed{endpoint:progress}': ['rate<0.01'],
    dropped_iterations: ['count==0'],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '120s',
};

/** @typedef {{ campaign: string, key: string }} Data */

/** @returns {Data} */
export function setup() {
  const key = envString('CAMPAIGN_KEY', `k6-migration-${Date.now()}`);
  ensureFlag(key, 1000000);
  const maxUsersPerSecond = envInt('MAX_USERS_PER_SECOND', 0) || 1000000;
  const campaign = ensureCampaign(key, key, { batchSize: envInt('BATCH_SIZE', 1000, 1), maxUsersPerSecond });
  if (campaign.status !== 'draft') throw new Error(`campaign ${key} is ${campaign.status}, not draft: give a new CAMPAIGN_KEY`);
  warnRealCampaign('migration-scale', key);
  return { campaign: String(campaign.id), key: apiKey() };
}

/**
 * Completes the campaign when everybody was processed, halts it otherwise (the run timed out
 * or failed): nothing keeps migrating after k6 exits.
 * @param {Data} data
 */
export function teardown(data) {
  const p = getProgress(data.campaign, data.key);
  stopCampaign(data.campaign, p.status === 200 && isSettled(p.body) ? 'complete' : 'halt');
}

/**
 * A run that throws (the start refused, the API down) must fail: k6 only logs an iteration's
 * exception, and thresholds on metrics without samples do not fail (an empty rate is skipped
 * with an error log, an empty gauge or trend reads 0).
 * @param {Data} data
 */
export function migrate(data) {
  try {
    run(data);
  } catch (e) {
    completed.add(false);
    throw e;
  }
}

/** @param {Data} data */
function run(data) {
  const started = Date.now();
  campaignAction(data.campaign, 'start');
  const deadline = started + durationSeconds(MAX_DURATION) * 1000 - 5000;
  let last = null;
  while (Date.now() < deadline) {
    const r = getProgress(data.campaign, data.key);
    check(r, { 'progress: 200 with counts': (x) => x.status === 200 && isProgress(x.body) }, { endpoint: 'progress' });
    if (r.status === 200) last = r.body;
    if (last && isSettled(last)) break;
    sleep(durationSeconds(POLL_INTERVAL));
  }
  const seconds = (Date.now() - started) / 1000;
  const c = stateCounts(last);
  const done = !!last && isSettled(last);
  completed.add(done);
  if (done) completionS.add(seconds);
  usersPerSecond.add((c.enabled + c.failed) / seconds);
  failureRatio.add(c.enabled + c.failed === 0 ? 1 : c.failed / (c.enabled + c.failed));
  enabledUsers.add(c.enabled);
  failedUsers.add(c.failed);
  console.log(`migration-scale: ${done ? 'settled' : 'NOT settled'} after ${seconds.toFixed(1)} s; enabled ${c.enabled}, failed ${c.failed}, ineligible ${c.ineligible}`);
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryOutputs('migration-scale', data);
}
