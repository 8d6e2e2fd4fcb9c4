// API keys of the scenarios: an evaluator key per run, created in setup() and revoked in
// teardown(), so that no run leaves a live key behind.
import { envString } from './config.js';
import { apiKey, expectStatus, request } from './http.js';

/**
 * @typedef {{ key: string, id: string | null }} EvaluatorKey `id` is set when the scenario created the key (and must revoke it)
 */

/**
 * Active keys named `name`, every page of `GET /api/v1/keys`.
 * @param {string} name
 * @returns {Array<{ id: string, name: string }>}
 */
export function keysNamed(name) {
  /** @type {Array<{ id: string, name: string }>} */
  const found = [];
  let cursor = '';
  for (;;) {
    const r = request('GET', `/api/v1/keys?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { key: apiKey(), tags: { endpoint: 'admin_keys', name: 'GET /api/v1/keys' } });
    const page = expectStatus(r, 'listing API keys', [200]).body;
    for (const k of page.items) if (k.name === name) found.push(k);
    if (!page.nextCursor) return found;
    cursor = page.nextCursor;
  }
}

/**
 * Revokes a key the scenario created (idempotent).
 * @param {string} id
 * @param {string} reason
 */
export function revokeKey(id, reason) {
  const r = request('POST', `/api/v1/keys/${encodeURIComponent(id)}/revoke`, {
    key: apiKey(),
    body: { reason },
    tags: { endpoint: 'admin_keys', name: 'POST /api/v1/keys/:id/revoke' },
  });
  expectStatus(r, `revoking API key ${id}`, [200]);
}

/**
 * The scenario's evaluator key: EVAL_KEY when given (never revoked), else one key named
 * `k6 evaluator (<scenario>)`, created here and revoked by the scenario's teardown. A key of
 * that name left active by an interrupted run is revoked first: its secret is stored only
 * hashed, so it cannot be used again, and keys must not pile up run after run.
 * @param {string} scenario
 * @returns {EvaluatorKey}
 */
export function evaluatorKey(scenario) {
  const given = envString('EVAL_KEY', '');
  if (given) return { key: given, id: null };
  const name = `k6 evaluator (${scenario})`;
  for (const left of keysNamed(name)) revokeKey(left.id, 'left active by an interrupted k6 run');
  const r = request('POST', '/api/v1/keys', {
    key: apiKey(),
    body: { name, role: 'evaluator' },
    tags: { endpoint: 'admin_keys', name: 'POST /api/v1/keys' },
  });
  const body = expectStatus(r, 'creating an evaluator key', [200, 201]).body;
  return { key: body.key, id: String(body.apiKey.id) };
}

/**
 * Teardown half of evaluatorKey: revokes the key when the scenario created it.
 * @param {EvaluatorKey} k
 */
export function releaseEvaluatorKey(k) {
  if (k && k.id) revokeKey(k.id, 'k6 scenario finished');
}
