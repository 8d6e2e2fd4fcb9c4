// Idempotent setup/teardown through the admin API: every helper may run again on a server
// that already has what it creates (a second run reuses the flags and campaigns).
import { sleep } from 'k6';
import { apiKey, expectStatus, request } from './http.js';

const REASON = 'k6 scale test';

/**
 * @param {string} key
 * @returns {{ flag: any, etag: string } | null}
 */
export function getFlag(key) {
  const r = request('GET', `/api/v1/flags/${encodeURIComponent(key)}`, {
    key: apiKey(),
    tags: { endpoint: 'admin_flags', name: 'GET /api/v1/flags/:key' },
    expected: [200, 404],
  });
  if (r.status === 404) return null;
  expectStatus(r, `reading flag ${key}`, [200]);
  return { flag: r.body, etag: r.etag || `"${r.body.version}"` };
}

/**
 * A boolean flag `on`/`off` with the given fallthrough rollout; created when missing, its
 * rollout set when different, revived when killed.
 * @param {string} key
 * @param {number} rolloutPpm
 * @returns {any} the flag
 */
export function ensureFlag(key, rolloutPpm) {
  let current = getFlag(key);
  if (!current) {
    const r = request('POST', '/api/v1/flags', {
      key: apiKey(),
      body: {
        key,
        kind: 'boolean',
        description: 'created by the k6 scale tests (load-tests/)',
        variants: { on: true, off: false },
        offVariant: 'off',
        rolloutVariant: 'on',
        rolloutPpm,
      },
      tags: { endpoint: 'admin_flags', name: 'POST /api/v1/flags' },
      expected: [200, 201, 409],
    });
    expectStatus(r, `creating flag ${key}`, [200, 201, 409]); // 409: a parallel run created it
    current = getFlag(key);
    if (!current) throw new Error(`flag ${key} missing right after its creation`);
  }
  if (current.flag.killed) current = { flag: reviveFlag(key), etag: '' };
  if (current.flag.rolloutPpm !== rolloutPpm) return setRollout(key, rolloutPpm);
  return current.flag;
}

/**
 * @param {string} key
 * @param {number} rolloutPpm
 * @returns {any} the flag
 */
export function setRollout(key, rolloutPpm) {
  return writeFlag(key, 'POST', `/api/v1/flags/${encodeURIComponent(key)}/rollout`, { rolloutPpm, reason: REASON }, 'rollout');
}

/**
 * @param {string} key
 * @param {string} [reason]
 * @returns {any} the flag
 */
export function killFlag(key, reason) {
  return writeFlag(key, 'POST', `/api/v1/flags/${encodeURIComponent(key)}/kill`, { reason: reason || REASON }, 'kill');
}

/**
 * @param {string} key
 * @param {string} [reason]
 * @returns {any} the flag
 */
export function reviveFlag(key, reason) {
  return writeFlag(key, 'POST', `/api/v1/flags/${encodeURIComponent(key)}/revive`, { reason: reason || REASON }, 'revive');
}

/**
 * A write with If-Match from a fresh read; retried on 409 version conflicts (someone else
 * wrote in between), which is what an operator would do.
 * @param {string} key
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {string} action
 * @returns {any}
 */
function writeFlag(key, method, path, body, action) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = getFlag(key);
    if (!current) throw new Error(`flag ${key} not found`);
    const r = request(method, path, {
      key: apiKey(),
      body,
      headers: { 'if-match': current.etag },
      tags: { endpoint: `admin_flag_${action}`, name: `${method} /api/v1/flags/:key/${action}` },
      expected: [200, 201, 409],
    });
    if (r.status !== 409 || (r.body && r.body.code !== 'flag.version_conflict')) {
      return expectStatus(r, `${action} of flag ${key}`, [200, 201]).body;
    }
    sleep(0.05);
  }
  throw new Error(`${action} of flag ${key}: version conflict five times in a row`);
}

/**
 * @param {string} idOrKey
 * @returns {{ campaign: any, etag: string } | null}
 */
export function getCampaign(idOrKey) {
  const r = request('GET', `/api/v1/campaigns/${encodeURIComponent(idOrKey)}`, {
    key: apiKey(),
    tags: { endpoint: 'admin_campaigns', name: 'GET /api/v1/campaigns/:id' },
    expected: [200, 404],
  });
  if (r.status === 404) return null;
  expectStatus(r, `reading campaign ${idOrKey}`, [200]);
  return { campaign: r.body, etag: r.etag || `"${r.body.version}"` };
}

/**
 * A campaign on `flagKey` over the whole population (no filter); created when missing.
 * @param {string} key
 * @param {string} flagKey
 * @param {{ batchSize?: number, maxUsersPerSecond?: number, concurrency?: number }} pacing
 * @returns {any} the campaign
 */
export function ensureCampaign(key, flagKey, pacing) {
  const existing = getCampaign(key);
  if (existing) return existing.campaign;
  const r = request('POST', '/api/v1/campaigns', {
    key: apiKey(),
    body: {
      key,
      name: `k6 ${key}`,
      description: 'created by the k6 scale tests (load-tests/)',
      flag: flagKey,
      pacing,
    },
    tags: { endpoint: 'admin_campaigns', name: 'POST /api/v1/campaigns' },
    expected: [200, 201, 409],
  });
  expectStatus(r, `creating campaign ${key}`, [200, 201, 409]);
  const created = getCampaign(key);
  if (!created) throw new Error(`campaign ${key} missing right after its creation`);
  return created.campaign;
}

/**
 * Runs `action` (start, resume, pause, halt, complete) with If-Match; a campaign already in
 * the target state is left alone.
 * @param {string} idOrKey
 * @param {'start' | 'resume' | 'pause' | 'halt' | 'complete'} action
 * @param {string} [reason]
 * @returns {any} the campaign
 */
export function campaignAction(idOrKey, action, reason) {
  const current = getCampaign(idOrKey);
  if (!current) throw new Error(`campaign ${idOrKey} not found`);
  const r = request('POST', `/api/v1/campaigns/${encodeURIComponent(idOrKey)}/${action}`, {
    key: apiKey(),
    body: action === 'halt' || action === 'complete' ? { reason: reason || REASON } : reason ? { reason } : {},
    headers: { 'if-match': current.etag },
    tags: { endpoint: `admin_campaign_${action}`, name: `POST /api/v1/campaigns/:id/${action}` },
  });
  return expectStatus(r, `${action} of campaign ${idOrKey}`, [200, 201]).body;
}

/**
 * Makes sure the campaign runs: starts a draft, resumes a paused or halted one. `started` says
 * whether this call set it running (the teardown then stops it again).
 * @param {string} idOrKey
 * @returns {{ campaign: any, started: boolean }}
 */
export function ensureRunning(idOrKey) {
  const current = getCampaign(idOrKey);
  if (!current) throw new Error(`campaign ${idOrKey} not found`);
  switch (current.campaign.status) {
    case 'running':
      return { campaign: current.campaign, started: false };
    case 'draft':
      return { campaign: campaignAction(idOrKey, 'start'), started: true };
    case 'paused':
    case 'halted':
      return { campaign: campaignAction(idOrKey, 'resume'), started: true };
    default:
      throw new Error(`campaign ${idOrKey} is ${current.campaign.status}; use another CAMPAIGN_KEY`);
  }
}

/**
 * Teardown of a scenario that ran a campaign: halts it (intake stops; nobody enabled goes
 * back) unless it already stopped or completed, so no campaign keeps migrating users after k6
 * exits. `complete` instead when everybody was processed.
 * @param {string} idOrKey
 * @param {'halt' | 'complete'} how
 * @returns {string} the campaign's status afterwards
 */
export function stopCampaign(idOrKey, how) {
  const current = getCampaign(idOrKey);
  if (!current) return 'missing';
  const status = current.campaign.status;
  if (status !== 'running' && status !== 'paused') return status;
  if (how === 'complete' && status === 'running') return campaignAction(idOrKey, 'complete').status;
  return campaignAction(idOrKey, 'halt', 'k6 scenario finished').status;
}

/**
 * Says, once per run, that the scenario moves real users of the target's population through
 * whatever E2EE backend its worker calls.
 * @param {string} scenario
 * @param {string} campaign
 */
export function warnRealCampaign(scenario, campaign) {
  console.warn(
    `${scenario}: campaign ${campaign} runs on the target's worker and E2EE backend. Run scale tests against a staging stack ` +
      'with BACKEND_KIND=simulated, never production; the teardown halts or completes the campaign.',
  );
}

/**
 * Waits until a started campaign's population is materialised (a worker writes its user rows
 * in chunks right after the start, about 10 s per million users). Gives up, returning false,
 * when `maxSeconds` have passed or the population has stopped growing for `stallSeconds` (no
 * worker running).
 * @param {string} idOrKey
 * @param {number} maxSeconds
 * @param {number} [stallSeconds]
 * @returns {boolean} whether it is materialised
 */
export function waitMaterialized(idOrKey, maxSeconds, stallSeconds = 15) {
  const deadline = Date.now() + maxSeconds * 1000;
  let size = -1;
  let grewAt = Date.now();
  for (;;) {
    const current = getCampaign(idOrKey);
    if (!current) throw new Error(`campaign ${idOrKey} not found`);
    if (current.campaign.materializedAt) return true;
    const now = Date.now();
    const n = Number(current.campaign.populationSize || 0);
    if (n !== size) {
      size = n;
      grewAt = now;
    }
    if (now >= deadline || now - grewAt >= stallSeconds * 1000) return false;
    sleep(1);
  }
}

/**
 * @param {string} idOrKey
 * @param {string} key the API key to read with (viewer is enough)
 * @returns {import('./http.js').JsonResult}
 */
export function getProgress(idOrKey, key) {
  return request('GET', `/api/v1/campaigns/${encodeURIComponent(idOrKey)}/progress`, {
    key,
    tags: { endpoint: 'progress', name: 'GET /api/v1/campaigns/:id/progress' },
  });
}
