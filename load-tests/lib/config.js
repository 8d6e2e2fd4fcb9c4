// Configuration of the k6 scenarios: every knob is an environment variable (`k6 run -e NAME=value`
// or the process environment). A bad value stops the run before it starts, naming the variable.

/**
 * @param {string} name
 * @param {string} def
 * @returns {string}
 */
export function envString(name, def) {
  const v = __ENV[name];
  return v === undefined || v === '' ? def : v;
}

/**
 * @param {string} name
 * @param {number} def
 * @param {number} [min]
 * @returns {number}
 */
export function envInt(name, def, min = 0) {
  const raw = envString(name, String(def));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min} (got "${raw}")`);
  return n;
}

/**
 * @param {string} name
 * @param {number} def
 * @param {number} [min]
 * @param {number} [max]
 * @returns {number}
 */
export function envNumber(name, def, min = 0, max = Number.MAX_VALUE) {
  const raw = envString(name, String(def));
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in [${min}, ${max}] (got "${raw}")`);
  return n;
}

const DURATION_UNITS = /** @type {Record<string, number>} */ ({ ms: 0.001, s: 1, m: 60, h: 3600 });

/**
 * Seconds in a k6 duration string such as `90s`, `5m`, `1h30m` or `250ms`.
 * @param {string} text
 * @returns {number}
 */
export function durationSeconds(text) {
  const parts = String(text).match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join('') !== String(text)) throw new Error(`"${text}" is not a k6 duration (e.g. 30s, 5m, 1h30m)`);
  return parts.reduce((sum, p) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(p);
    return m ? sum + Number(m[1]) * DURATION_UNITS[m[2]] : sum;
  }, 0);
}

/**
 * @param {string} name
 * @param {string} def
 * @returns {string}
 */
export function envDuration(name, def) {
  const v = envString(name, def);
  try {
    durationSeconds(v);
  } catch (e) {
    throw new Error(`${name} must be a k6 duration like 30s, 5m or 1h30m (got "${v}")`);
  }
  return v;
}

/** Base URL of one Cutover API (or of the Service / load balancer in front of replicas). */
export const BASE_URL = envString('BASE_URL', 'http://127.0.0.1:3000').replace(/\/+$/, '');

/** Where handleSummary writes its JSON and text files (relative to the directory k6 runs in). */
export const RESULTS_DIR = envString('RESULTS_DIR', 'load-tests/results').replace(/\/+$/, '');

/** Trend statistics shown in summaries; thresholds may use any of these. */
export const TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'];

/**
 * Allowed dropped iterations: a share (DROPPED_MAX_RATIO, default 1%) of the iterations
 * the arrival-rate executor was asked to start. More means the load generator could not
 * keep up (too few VUs, or a server so slow that every VU was busy): the run is invalid.
 * @param {number} plannedIterations
 * @returns {string}
 */
export function droppedIterationsGuard(plannedIterations) {
  const ratio = envNumber('DROPPED_MAX_RATIO', 0.01, 0, 1);
  return `count<=${Math.max(0, Math.floor(plannedIterations * ratio))}`;
}

/**
 * Uniform integer in [min, max].
 * @param {number} min
 * @param {number} max
 * @returns {number}
 */
export function randomInt(min, max) {
  return min + Math.floor(Math.random() * (max - min + 1));
}
