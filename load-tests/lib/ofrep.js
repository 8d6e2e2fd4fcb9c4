// OFREP (OpenFeature Remote Evaluation Protocol) requests and the checks of their answers.
import { envInt, randomInt } from './config.js';
import { request } from './http.js';

/** OFREP reasons an answer may carry. */
export const OFREP_REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT', 'CACHED', 'UNKNOWN', 'ERROR'];

/** Targeting keys are decimal user ids drawn from [1, KEY_SPACE] (default 1bn). */
const KEY_SPACE = envInt('KEY_SPACE', 1000000000, 1);

/** @returns {string} */
export function randomTargetingKey() {
  return String(randomInt(1, KEY_SPACE));
}

/**
 * @param {string} evalKey
 * @param {string} flagKey
 * @param {string} targetingKey
 * @param {string} [endpoint]
 */
export function evaluateFlag(evalKey, flagKey, targetingKey, endpoint) {
  return request('POST', `/ofrep/v1/evaluate/flags/${encodeURIComponent(flagKey)}`, {
    key: evalKey,
    body: { context: { targetingKey } },
    tags: { endpoint: endpoint || 'ofrep_single', name: 'POST /ofrep/v1/evaluate/flags/:key' },
  });
}

/**
 * @param {string} evalKey
 * @param {string} targetingKey
 * @param {string | null} ifNoneMatch
 * @param {string} endpoint
 */
export function evaluateBulk(evalKey, targetingKey, ifNoneMatch, endpoint) {
  /** @type {Record<string, string>} */
  const headers = ifNoneMatch ? { 'if-none-match': ifNoneMatch } : {};
  return request('POST', '/ofrep/v1/evaluate/flags', {
    key: evalKey,
    body: { context: { targetingKey } },
    headers,
    tags: { endpoint, name: 'POST /ofrep/v1/evaluate/flags' },
    expected: [200, 304],
  });
}

/**
 * Whether one OFREP success body is well formed for `flagKey`.
 * @param {any} body
 * @param {string} flagKey
 * @returns {boolean}
 */
export function isOfrepSuccess(body, flagKey) {
  return (
    !!body &&
    body.key === flagKey &&
    typeof body.value === 'boolean' &&
    typeof body.variant === 'string' &&
    OFREP_REASONS.indexOf(body.reason) >= 0 &&
    body.errorCode === undefined
  );
}
