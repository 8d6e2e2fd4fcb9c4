// Many watchers of one running campaign: POLL_RATE progress reads per second (the dashboard
// and CLI poll), plus STREAMS virtual users each holding the server-sent-events stream open.
// k6 (0.48+) has no EventSource and buffers a response until it ends, so a stream is held
// with a bounded request: each stream VU opens `/progress/stream` with timeout
// STREAM_WINDOW. A stream that is still open when the window ends (k6 error 1050, request
// timeout) is a success: the server kept it open under load. A stream that the server ends
// within the window (campaign finished) must be a 200 `text/event-stream` with at least one
// `data:` event. Anything else (4xx/5xx, reset) before the window ends is a failure.
// Measured: `stream_held_ms` (how long each stream stayed open), `stream_ok` (share of
// streams that behaved), and the progress poll latency/errors while streams are held.
// Needs a campaign that runs during the test: CAMPAIGN_KEY (an existing running campaign),
// or setup() creates `k6-progress-watch` on a seeded population, ramped to 100% at PACE
// users/s, and starts it. The teardown halts the campaign it started (a CAMPAIGN_KEY you
// gave only when this run started it).
//   k6 run -e BASE_URL=... -e API_KEY=co_... load-tests/progress-watch.js
// Knobs: POLL_RATE (50/s), STREAMS (50), STREAM_WINDOW (10s), DURATION (1m), VUS (20),
// MAX_VUS (100), PACE (200 users/s for the campaign it creates), targets P95_MS (50),
// P99_MS (100), ERROR_RATE (0.001), STREAM_OK_RATE (0.99).
import http from 'k6/http';
import { check } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import { BASE_URL, TREND_STATS, droppedIterationsGuard, durationSeconds, envDuration, envInt, envNumber, envString } from './lib/config.js';
import { ensureCampaign, ensureFlag, ensureRunning, getProgress, stopCampaign, warnRealCampaign } from './lib/admin.js';
import { apiKey } from './lib/http.js';
import { isProgress } from './lib/campaign.js';
import { summaryOutputs } from './lib/summary.js';

const POLL_RATE = envInt('POLL_RATE', 50, 1);
const STREAMS = envInt('STREAMS', 50, 1);
const STREAM_WINDOW = envDuration('STREAM_WINDOW', '10s');
const DURATION = envDuration('DURATION', '1m');
const CAMPAIGN_KEY = envString('CAMPAIGN_KEY', '');

const streamHeld = new Trend('stream_held_ms', true);
const streamOk = new Rate('stream_ok');

export const options = {
  scenarios: {
    pollers: {
      executor: 'constant-arrival-rate',
      rate: POLL_RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: envInt('VUS', 20, 1),
      maxVUs: envInt('MAX_VUS', 100, 1),
      exec: 'poll',
    },
    streams: { executor: 'constant-vus', vus: STREAMS, duration: DURATION, exec: 'stream', gracefulStop: STREAM_WINDOW },
  },
  thresholds: {
    'http_req_duration{endpoint:progress}': [`p(95)<${envNumber('P95_MS', 50)}`, `p(99)<${envNumber('P99_MS', 100)}`],
    'http_req_failed{endpoint:progress}': [`rate<${envNumber('ERROR_RATE', 0.001, 0, 1)}`],
    stream_ok: [`rate>=${envNumber('STREAM_OK_RATE', 0.99, 0, 1)}`],
    'checks{endpoint:progress}': ['rate>0.999'],
    dropped_iterations: [droppedIterationsGuard(POLL_RATE * durationSeconds(DURATION))],
  },
  summaryTrendStats: TREND_STATS,
  setupTimeout: '300s',
};

/** @typedef {{ key: string, campaign: string, stopAtEnd: boolean }} Data */

/** @returns {Data} */
export function setup() {
  const key = CAMPAIGN_KEY || 'k6-progress-watch';
  if (!CAMPAIGN_KEY) {
    ensureFlag(key, 1000000);
    ensureCampaign(key, key, { batchSize: 500, maxUsersPerSecond: envInt('PACE', 200, 1) });
  }
  warnRealCampaign('progress-watch', key);
  const { campaign, started } = ensureRunning(key);
  // its own campaign is stopped at the end; a given one only when this run started it
  return { key: envString('VIEWER_KEY', apiKey()), campaign: String(campaign.id), stopAtEnd: !CAMPAIGN_KEY || started };
}

/** @param {Data} data */
export function poll(data) {
  const r = getProgress(data.campaign, data.key);
  check(r, { 'progress: 200': (x) => x.status === 200, 'progress: counts per state': (x) => isProgress(x.body) }, { endpoint: 'progress' });
}

/** @param {Data} data */
export function stream(data) {
  const windowMs = durationSeconds(STREAM_WINDOW) * 1000;
  const started = Date.now();
  const res = http.get(`${BASE_URL}/api/v1/campaigns/${data.campaign}/progress/stream`, {
    headers: { authorization: `Bearer ${data.key}`, accept: 'text/event-stream' },
    timeout: STREAM_WINDOW,
    tags: { endpoint: 'progress_stream', name: 'GET /api/v1/campaigns/:id/progress/stream' },
    // a stream still open at the end of the window is what we want, not a failed request
    responseCallback: http.expectedStatuses(0, 200),
  });
  const held = Date.now() - started;
  streamHeld.add(held);
  const heldWholeWindow = res.status === 0 && res.error_code === 1050 && held >= windowMs * 0.9;
  const endedWithEvents =
    res.status === 200 && String(res.headers['Content-Type'] || '').indexOf('text/event-stream') === 0 && /(^|\n)data:/.test(String(res.body || ''));
  streamOk.add(heldWholeWindow || endedWithEvents);
}

/** @param {Data} data */
export function teardown(data) {
  if (data.stopAtEnd) stopCampaign(data.campaign, 'halt');
}

/** @param {any} data */
export function handleSummary(data) {
  return summaryOutputs('progress-watch', data);
}
