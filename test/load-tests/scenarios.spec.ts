import { readdirSync } from 'node:fs';
import { K6_MODULES, LOAD_TESTS_DIR, loadK6Script, type DefinedMetric, type LoadedScript } from './k6-loader';

const SCENARIOS = ['evaluate.js', 'evaluate-bulk.js', 'opt-in-storm.js', 'kill-switch.js', 'progress-watch.js', 'migration-scale.js'];

/** k6's built-in metrics a threshold may name, with their types. */
const BUILTIN: Record<string, DefinedMetric['type']> = {
  http_req_duration: 'trend',
  http_req_waiting: 'trend',
  http_req_failed: 'rate',
  http_reqs: 'counter',
  checks: 'rate',
  iterations: 'counter',
  iteration_duration: 'trend',
  dropped_iterations: 'counter',
};

const AGGREGATIONS: Record<DefinedMetric['type'], RegExp> = {
  trend: /^(avg|min|max|med|p\(\d+(\.\d+)?\))$/,
  rate: /^rate$/,
  counter: /^(count|rate)$/,
  gauge: /^value$/,
};

const EXECUTORS = ['shared-iterations', 'per-vu-iterations', 'constant-vus', 'ramping-vus', 'constant-arrival-rate', 'ramping-arrival-rate', 'externally-controlled'];

function metricType(script: LoadedScript, name: string): DefinedMetric['type'] | undefined {
  return BUILTIN[name] ?? script.metrics.find((m) => m.name === name)?.type;
}

/** A summary object shaped like k6's, built from the script's own thresholds. */
function fakeSummary(script: LoadedScript) {
  const metrics: Record<string, any> = {};
  let n = 0;
  for (const [key, exprs] of Object.entries<string[]>(script.exports.options.thresholds)) {
    const type = metricType(script, key.split('{')[0])!;
    const values = { trend: { avg: 1.5, med: 1, 'p(95)': 3, 'p(99)': 4, max: 9 }, rate: { rate: 0.5, passes: 1, fails: 1 }, counter: { count: 3, rate: 0.1 }, gauge: { value: 2 } }[type];
    metrics[key] = { type, contains: type === 'trend' ? 'time' : 'default', values, thresholds: Object.fromEntries(exprs.map((e) => [e, { ok: n++ % 2 === 1 }])) };
  }
  return { metrics, root_group: { name: '', checks: [{ name: 'a check', passes: 9, fails: 1 }], groups: [] }, state: { testRunDurationMs: 61_000 } };
}

describe('k6 scenario files', () => {
  it('are exactly the six scenarios of the issue (no scenario without this test)', () => {
    const found = readdirSync(LOAD_TESTS_DIR).filter((f) => f.endsWith('.js')).sort();
    expect(found).toEqual([...SCENARIOS].sort());
  });

  describe.each(SCENARIOS)('%s', (file) => {
    const script = loadK6Script(file, { API_KEY: 'co_test0000_xxxxxxxxxxxxxxxxxxxxxxxx' });
    const { options } = script.exports;

    it('imports only k6 v0.48 built-ins and its own lib files', () => {
      const outside = script.imports.filter((s) => !s.startsWith('./') && !s.startsWith('../') && !(K6_MODULES as readonly string[]).includes(s));
      expect(outside).toEqual([]);
    });

    it('exports options with thresholds, including a dropped_iterations guard', () => {
      expect(Object.keys(options.thresholds).length).toBeGreaterThan(2);
      expect(options.thresholds.dropped_iterations).toEqual([expect.stringMatching(/^count\s*(<=|<|==)\s*\d+$/)]);
    });

    it('has thresholds k6 accepts: known metrics, valid aggregations, numeric targets', () => {
      for (const [key, exprs] of Object.entries<string[]>(options.thresholds)) {
        const m = /^([a-z_]+)(\{([a-z_]+):([a-z_]+)\})?$/.exec(key);
        expect({ key, valid: !!m }).toEqual({ key, valid: true });
        const type = metricType(script, m![1]);
        expect({ key, type }).toEqual({ key, type: expect.any(String) });
        expect(exprs.length).toBeGreaterThan(0);
        for (const expr of exprs) {
          const e = /^(\S+?)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(\.\d+)?)$/.exec(expr);
          expect({ key, expr, parses: !!e }).toEqual({ key, expr, parses: true });
          expect({ key, expr, aggregation: AGGREGATIONS[type!].test(e![1]) }).toEqual({ key, expr, aggregation: true });
        }
      }
    });

    it('tags every request-metric threshold with an endpoint that the script uses', () => {
      const tagged = Object.keys(options.thresholds).filter((k) => k.startsWith('http_req_'));
      expect(tagged.length).toBeGreaterThan(0);
      for (const k of tagged) expect(k).toMatch(/\{endpoint:[a-z_]+\}$/);
    });

    it('runs every scenario through an exported function with a known executor', () => {
      const scenarios = Object.entries<any>(options.scenarios ?? {});
      if (scenarios.length === 0) expect(typeof script.exports.default).toBe('function');
      for (const [, s] of scenarios) {
        expect(EXECUTORS).toContain(s.executor);
        expect(typeof script.exports[s.exec ?? 'default']).toBe('function');
      }
    });

    it('creates what it needs in setup() and writes JSON and text in handleSummary()', () => {
      expect(typeof script.exports.setup).toBe('function');
      const summary = fakeSummary(script);
      const out = script.exports.handleSummary(summary);
      const name = file.replace(/\.js$/, '');
      expect(Object.keys(out).sort()).toEqual([`load-tests/results/${name}.json`, `load-tests/results/${name}.txt`, 'stdout'].sort());
      expect(JSON.parse(out[`load-tests/results/${name}.json`])).toEqual(summary);
      expect(out.stdout).toBe(out[`load-tests/results/${name}.txt`]);
      expect(out.stdout).toContain(`Cutover scale test: ${name}`);
      for (const expr of Object.values<string[]>(options.thresholds).flat()) expect(out.stdout).toContain(expr);
      expect(out.stdout).toMatch(/FAILED on /);
    });

    it('writes no API key into its results, though k6 puts setup() data into the summary', () => {
      const secret = 'co_abcd1234_SECRETsecretSECRETsecret01';
      const summary = { ...fakeSummary(script), setup_data: { evalKey: secret, key: secret, flagKey: 'k6-flag', nested: [`Bearer ${secret}`] } };
      summary.root_group.checks.push({ name: `request with ${secret} failed`, passes: 0, fails: 1 });
      const out = script.exports.handleSummary(summary);
      for (const [file, text] of Object.entries<string>(out)) expect({ file, leaks: text.includes(secret) || /co_[a-z0-9]{8}_/.test(text) }).toEqual({ file, leaks: false });
      const json = JSON.parse(out[`load-tests/results/${file.replace(/\.js$/, '')}.json`]);
      expect(json.setup_data).toEqual({ evalKey: '[redacted]', key: '[redacted]', flagKey: 'k6-flag', nested: ['Bearer [redacted]'] });
    });

    it('has a teardown() that undoes what setup() left running (keys, killed flags, campaigns)', () => {
      expect(typeof script.exports.teardown).toBe('function');
    });
  });
});

describe('k6 scenario configuration', () => {
  it('takes rates, durations and targets from __ENV', () => {
    const { options } = loadK6Script('evaluate.js', { RATE: '1000', DURATION: '2m', P95_MS: '7', DROPPED_MAX_RATIO: '0.5' }).exports;
    expect(options.scenarios.evaluate).toMatchObject({ executor: 'constant-arrival-rate', rate: 1000, duration: '2m' });
    expect(options.thresholds['http_req_duration{endpoint:ofrep_single}']).toContain('p(95)<7');
    expect(options.thresholds.dropped_iterations).toEqual(['count<=60000']);
  });

  it('refuses a bad value before the run starts, naming the variable', () => {
    expect(() => loadK6Script('evaluate.js', { RATE: 'fast' })).toThrow(/RATE must be an integer/);
    expect(() => loadK6Script('opt-in-storm.js', { HOLD: '10 minutes' })).toThrow(/HOLD must be a k6 duration/);
    expect(() => loadK6Script('kill-switch.js', { KILL_AFTER: '1m', DURATION: '30s' })).toThrow(/KILL_AFTER must be shorter than DURATION/);
  });

  it('sizes the opt-in storm guard from its ramping stages', () => {
    const { options } = loadK6Script('opt-in-storm.js', { START_RATE: '0', PEAK_RATE: '100', RAMP_UP: '10s', HOLD: '10s', RAMP_DOWN: '10s' }).exports;
    // 500 (ramp up) + 1000 (hold) + 500 (ramp down) planned iterations, 1% may drop
    expect(options.thresholds.dropped_iterations).toEqual(['count<=20']);
  });
});
