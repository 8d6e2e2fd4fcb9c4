// Requests to the Cutover API: auth headers, JSON bodies, endpoint tags.
import http from 'k6/http';
import { BASE_URL, envString } from './config.js';

/**
 * @typedef {{ endpoint: string, name?: string }} EndpointTags
 * @typedef {{ status: number, body: any, etag: string | null, res: import('k6/http').RefinedResponse<any> }} JsonResult
 */

/** The admin (or operator) key used by setup/teardown and the admin calls of a scenario. */
export function apiKey() {
  const key = envString('API_KEY', '');
  if (!key) throw new Error('API_KEY is required: an admin key (`cutover keys create --role admin`; locally .cutover/admin-key)');
  return key;
}

/**
 * @param {string} key
 * @param {Record<string, string>} [extra]
 * @returns {Record<string, string>}
 */
export function headersFor(key, extra) {
  return Object.assign({ 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key}` }, extra || {});
}

/**
 * Parsed JSON body or null (k6's res.json() throws on anything else).
 * @param {import('k6/http').RefinedResponse<any>} res
 * @returns {any}
 */
export function jsonOf(res) {
  if (typeof res.body !== 'string' || res.body === '') return null;
  try {
    return JSON.parse(res.body);
  } catch (e) {
    return null;
  }
}

/**
 * One JSON request to the API, tagged by endpoint.
 * @param {string} method
 * @param {string} path
 * @param {{ key: string, body?: unknown, headers?: Record<string, string>, tags: EndpointTags, timeout?: string, expected?: number[] }} opts
 * @returns {JsonResult}
 */
export function request(method, path, opts) {
  /** @type {import('k6/http').Params} */
  const params = {
    headers: headersFor(opts.key, opts.headers),
    tags: { endpoint: opts.tags.endpoint, name: opts.tags.name || `${method} ${path}` },
  };
  if (opts.timeout) params.timeout = opts.timeout;
  if (opts.expected) params.responseCallback = http.expectedStatuses(...opts.expected);
  const body = opts.body === undefined ? null : JSON.stringify(opts.body);
  const res = http.request(method, `${BASE_URL}${path}`, body, params);
  const etag = res.headers.Etag || res.headers.ETag || null;
  return { status: res.status, body: jsonOf(res), etag, res };
}

/**
 * Throws with the API's own `{ code, message }` when a setup/teardown call fails.
 * @param {JsonResult} r
 * @param {string} what
 * @param {number[]} ok
 * @returns {JsonResult}
 */
export function expectStatus(r, what, ok) {
  if (ok.indexOf(r.status) >= 0) return r;
  const detail = r.body && r.body.code ? `${r.body.code}: ${r.body.message}` : String(r.res.body || r.res.error).slice(0, 300);
  throw new Error(`${what} answered ${r.status} (${detail})`);
}
