// End-of-test output without remote jslib imports: a JSON file with k6's whole summary
// object, and a text summary (thresholds, checks, per-endpoint latency, custom metrics)
// written to a file and to stdout.
import { RESULTS_DIR } from './config.js';

/**
 * @param {number | undefined} v
 * @param {string} type
 * @param {boolean} [isTime]
 * @returns {string}
 */
function fmt(v, type, isTime) {
  if (v === undefined || v === null || Number.isNaN(v)) return '-';
  if (isTime) return v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(2)}ms`;
  if (type === 'rate') return `${(v * 100).toFixed(2)}%`;
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/**
 * One line per metric: its main values, and each threshold with ✓/✗.
 * @param {string} name
 * @param {any} metric
 * @returns {string[]}
 */
function metricLines(name, metric) {
  const values = metric.values || {};
  const isTime = metric.contains === 'time';
  /** @type {string[]} */
  let shown;
  switch (metric.type) {
    case 'trend':
      shown = ['avg', 'med', 'p(95)', 'p(99)', 'max'].filter((k) => k in values).map((k) => `${k}=${fmt(values[k], 'trend', isTime)}`);
      break;
    case 'rate':
      shown = [`rate=${fmt(values.rate, 'rate')}`, `passes=${values.passes}`, `fails=${values.fails}`];
      break;
    case 'counter':
      shown = [`count=${fmt(values.count, 'counter', isTime)}`, `rate=${fmt(values.rate, 'counter')}/s`];
      break;
    default:
      shown = [`value=${fmt(values.value, metric.type, isTime)}`];
  }
  const lines = [`  ${name.padEnd(52)} ${shown.join('  ')}`];
  const thresholds = metric.thresholds || {};
  for (const expr of Object.keys(thresholds)) lines.push(`    ${thresholds[expr].ok ? '✓' : '✗'} ${expr}`);
  return lines;
}

/**
 * @param {any} group
 * @param {string[]} out
 */
function checkLines(group, out) {
  for (const c of group.checks || []) {
    const total = c.passes + c.fails;
    out.push(`  ${c.fails === 0 ? '✓' : '✗'} ${c.name}: ${c.passes}/${total}`);
  }
  for (const g of group.groups || []) checkLines(g, out);
}

/**
 * The text summary of a run.
 * @param {string} scenario
 * @param {any} data k6's summary object
 * @returns {string}
 */
export function textSummary(scenario, data) {
  const metrics = data.metrics || {};
  const names = Object.keys(metrics).sort();
  const failed = names.filter((n) => Object.values(metrics[n].thresholds || {}).some((t) => !t.ok));
  const state = data.state || {};
  const out = [
    `Cutover scale test: ${scenario}`,
    `duration ${fmt(state.testRunDurationMs, 'trend', true)}; thresholds ${failed.length === 0 ? 'all passed' : `FAILED on ${failed.join(', ')}`}`,
    '',
    'checks',
  ];
  checkLines(data.root_group || {}, out);
  out.push('', 'metrics (with thresholds)');
  for (const n of names.filter((m) => metrics[m].thresholds)) out.push(...metricLines(n, metrics[n]));
  out.push('', 'other metrics');
  for (const n of names.filter((m) => !metrics[m].thresholds)) out.push(...metricLines(n, metrics[n]));
  return `${out.join('\n')}\n`;
}

/** Cutover API keys (`co_<prefix>_<secret>`), wherever they appear in a string. */
const API_KEY_TEXT = /co_[a-z0-9]{8}_[A-Za-z0-9_-]{20,}/g;

/**
 * k6's summary without secrets: k6 puts setup()'s return value (which carries the evaluator
 * and admin keys) into the summary as `setup_data`, and an error text may quote a key.
 * @param {any} data
 * @returns {string} the summary as JSON, every API key replaced by `[redacted]`
 */
export function scrubbedJson(data) {
  return JSON.stringify(data, (_k, v) => (typeof v === 'string' ? v.replace(API_KEY_TEXT, '[redacted]') : v), 2);
}

/**
 * What a scenario's handleSummary returns: stdout text plus JSON and text files (in
 * RESULTS_DIR, which must exist: k6 does not create folders; `load-tests/run.sh` does).
 * @param {string} scenario
 * @param {any} data
 * @returns {Record<string, string>}
 */
export function summaryOutputs(scenario, data) {
  const text = textSummary(scenario, data).replace(API_KEY_TEXT, '[redacted]');
  return {
    stdout: text,
    [`${RESULTS_DIR}/${scenario}.json`]: scrubbedJson(data),
    [`${RESULTS_DIR}/${scenario}.txt`]: text,
  };
}
