import { walRate } from './guardrail-signals.service';
import { describeTrip, evaluateGuardrails, newFailures, rulesOf, type BacklogFigures, type ExternalReading, type GuardrailRule, type WindowFigures } from './guardrails';
import { expand, readingOf, windowQuery } from './prometheus.client';
import { guardrailRulesSchema } from './ramp.schemas';

const win: WindowFigures = { outcomes: 0, enabled: 0, failed: 0, retried: 0, batches: 0, backendP95Ms: null };
const backlog: BacklogFigures = { backlogBatches: 0, oldestQueuedAgeSeconds: null };
const prom = (over: Partial<GuardrailRule> = {}): GuardrailRule => ({ metric: 'prometheus', query: 'max(x)', threshold: 0.05, windowSeconds: 60, action: 'pause', minSamples: 1, comparison: 'above', onQueryError: 'hold', ...over });
const evaluate = (rules: GuardrailRule[], readings: Array<ExternalReading | undefined>) => evaluateGuardrails(rules, () => win, backlog, (i) => readings[i]);

describe('external guardrails (Prometheus, database health)', () => {
  it('a reading above the threshold trips the rule with the query in the trip', () => {
    const e = evaluate([prom()], [{ status: 'ok', value: 0.2, samples: 10 }]);
    expect(e.verdict).toBe('pause');
    expect(e.trips).toEqual([{ metric: 'prometheus', query: 'max(x)', value: 0.2, threshold: 0.05, windowSeconds: 60, action: 'pause' }]);
    expect(e.measured).toEqual([{ metric: 'prometheus', query: 'max(x)', windowSeconds: 60, value: 0.2, status: 'ok', samples: 10 }]);
    expect(describeTrip(e.trips[0])).toBe('prometheus max(x) 0.2000 > 0.05 over 60s → pause');
  });

  it('comparison below trips under the threshold (an availability, a success rate)', () => {
    const rule = prom({ comparison: 'below', threshold: 0.99, action: 'halt' });
    expect(evaluate([rule], [{ status: 'ok', value: 0.995 }]).verdict).toBe('ok');
    const e = evaluate([rule], [{ status: 'ok', value: 0.9 }]);
    expect(e.verdict).toBe('halt');
    expect(describeTrip(e.trips[0])).toBe('prometheus max(x) 0.9000 < 0.99 over 60s → halt');
  });

  it('no data judges nothing; a failed read holds the step unless the rule says ignore', () => {
    expect(evaluate([prom()], [{ status: 'no_data', value: null, samples: 0 }])).toMatchObject({ verdict: 'ok', trips: [], failures: [] });
    const held = evaluate([prom()], [{ status: 'error', value: null, error: 'Prometheus at h:1 unreachable (ECONNREFUSED)' }]);
    expect(held).toMatchObject({ verdict: 'hold', trips: [], failures: [{ metric: 'prometheus', query: 'max(x)', outcome: 'hold', error: expect.stringContaining('unreachable') }] });
    const ignored = evaluate([prom({ onQueryError: 'ignore' })], [{ status: 'error', value: null, error: 'x' }]);
    expect(ignored).toMatchObject({ verdict: 'ok', failures: [{ outcome: 'ignore' }], measured: [{ status: 'error', error: 'x' }] });
    // a rule whose value was never read counts as failed, never as healthy
    expect(evaluate([prom()], []).verdict).toBe('hold');
  });

  it('hold ranks between ok and throttle', () => {
    const rules = [prom(), { metric: 'db_oldest_xact_age_seconds', threshold: 600, windowSeconds: 60, action: 'throttle', minSamples: 0 } as GuardrailRule];
    expect(evaluate(rules, [{ status: 'error', value: null, error: 'x' }, { status: 'ok', value: 900 }]).verdict).toBe('throttle');
    expect(evaluate(rules, [{ status: 'error', value: null, error: 'x' }, { status: 'ok', value: 10 }]).verdict).toBe('hold');
  });

  it('database-health indicators trip with their own metric name', () => {
    const e = evaluate([{ metric: 'db_autovacuum_running', threshold: 0, windowSeconds: 60, action: 'hold', minSamples: 0 }], [{ status: 'ok', value: 1 }]);
    expect(e.verdict).toBe('hold');
    expect(describeTrip(e.trips[0])).toBe('db_autovacuum_running 1 > 0 over 60s → hold');
    expect(evaluate([{ metric: 'db_replication_lag_seconds', threshold: 5, windowSeconds: 60, action: 'throttle', minSamples: 0 }], [{ status: 'no_data', value: null }]).verdict).toBe('ok');
  });

  it('a failure is new once, by rule', () => {
    const f = { metric: 'prometheus' as const, query: 'a', windowSeconds: 60, error: 'x', outcome: 'hold' as const };
    expect(newFailures([f], [{ ...f, error: 'y' }])).toEqual([]);
    expect(newFailures([f], [{ ...f, query: 'b' }])).toHaveLength(1);
  });

  it('the schema asks a prometheus rule for a query and keeps the prometheus fields off built-in metrics', () => {
    const ok = guardrailRulesSchema.parse([{ metric: 'prometheus', query: 'up', threshold: -1, action: 'hold' }]);
    expect(ok[0]).toMatchObject({ comparison: 'above', onQueryError: 'hold', threshold: -1 });
    const bad = guardrailRulesSchema.safeParse([{ metric: 'prometheus', threshold: 1, action: 'pause' }, { metric: 'failure_ratio', threshold: 0.1, action: 'pause', query: 'up', onQueryError: 'ignore' }]);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      '0.query: a prometheus guardrail needs a PromQL query',
      '1.query: only a prometheus guardrail takes query',
      '1.onQueryError: only a prometheus guardrail takes onQueryError',
    ]);
    expect(rulesOf(ok)).toEqual([{ metric: 'prometheus', query: 'up', threshold: -1, windowSeconds: 300, action: 'hold', minSamples: 50, onQueryError: 'hold' }]);
  });
});

describe('Prometheus readings', () => {
  const series = (...values: string[]) => ({ metric: {}, values: values.map((v, i) => [i, v] as [number, string]) });

  it('the window is a subquery with about 60 points, $window becomes the window', () => {
    expect(expand('rate(x[$window])', 300)).toBe('rate(x[300s])');
    expect(windowQuery('rate(x[$window])', 300)).toBe('(rate(x[300s]))[300s:5s]');
    expect(windowQuery('x', 10)).toBe('(x)[10s:1s]');
  });

  it('the worst series’ latest point, with its sample count; too few samples or no series is no data', () => {
    expect(readingOf([series('0.1', '0.3'), series('0.5', '0.2')], { minSamples: 2 })).toEqual({ status: 'ok', value: 0.3, samples: 2 });
    expect(readingOf([series('0.1', '0.3'), series('0.5', '0.2')], { minSamples: 2, comparison: 'below' })).toEqual({ status: 'ok', value: 0.2, samples: 2 });
    expect(readingOf([series('0.1', 'NaN', '0.4')], { minSamples: 3 })).toEqual({ status: 'no_data', value: null, samples: 2 });
    expect(readingOf([], { minSamples: 0 })).toEqual({ status: 'no_data', value: null, samples: 0 });
  });
});

describe('WAL rate', () => {
  it('bytes per second between two samples; nothing on the first', () => {
    const a = { bytes: '1000000', at: '2026-01-01T00:00:00.000Z' };
    expect(walRate(undefined, a)).toEqual({ status: 'no_data', value: null });
    expect(walRate(a, { bytes: '3000000', at: '2026-01-01T00:00:02.000Z' })).toEqual({ status: 'ok', value: 1_000_000 });
    expect(walRate(a, { bytes: '3000000', at: a.at })).toEqual({ status: 'no_data', value: null });
  });
});
