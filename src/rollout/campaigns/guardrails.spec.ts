import { evaluateGuardrails, measure, newTrips, rulesOf, worst, type BacklogFigures, type GuardrailRule, type WindowFigures } from './guardrails';
import { nextPace, paceDirection, type AimdParams } from './pace-aimd';
import { guardrailRulesSchema } from './ramp.schemas';

const win = (over: Partial<WindowFigures> = {}): WindowFigures => ({ outcomes: 1000, enabled: 950, failed: 50, retried: 0, batches: 10, backendP95Ms: 40, ...over });
const backlog: BacklogFigures = { backlogBatches: 4, oldestQueuedAgeSeconds: 12 };
const rule = (over: Partial<GuardrailRule>): GuardrailRule => ({ metric: 'failure_ratio', threshold: 0.1, windowSeconds: 300, action: 'pause', minSamples: 50, ...over });

describe('guardrail measures', () => {
  it('failure ratio = failed / (enabled + failed), null below minSamples', () => {
    expect(measure(rule({}), win(), backlog)).toBeCloseTo(0.05);
    expect(measure(rule({ minSamples: 2000 }), win(), backlog)).toBeNull();
    expect(measure(rule({ minSamples: 0 }), win({ enabled: 0, failed: 0 }), backlog)).toBeNull();
  });

  it('backend error rate counts transient and permanent outcomes', () => {
    expect(measure(rule({ metric: 'backend_error_rate' }), win({ retried: 100, failed: 50, enabled: 850, outcomes: 1000 }), backlog)).toBeCloseTo(0.15);
  });

  it('p95 latency is null without batches', () => {
    expect(measure(rule({ metric: 'backend_p95_ms' }), win(), backlog)).toBe(40);
    expect(measure(rule({ metric: 'backend_p95_ms' }), win({ batches: 0, backendP95Ms: null }), backlog)).toBeNull();
  });

  it('backlog metrics are not windowed', () => {
    expect(measure(rule({ metric: 'backlog_batches' }), win(), backlog)).toBe(4);
    expect(measure(rule({ metric: 'oldest_queued_age_seconds' }), win(), backlog)).toBe(12);
    expect(measure(rule({ metric: 'oldest_queued_age_seconds' }), win(), { backlogBatches: 0, oldestQueuedAgeSeconds: null })).toBeNull();
  });

  it('the queue age a guardrail judges leaves out the wait the pace itself imposes', () => {
    const age = rule({ metric: 'oldest_queued_age_seconds', threshold: 120, action: 'throttle' });
    // at the floor pace (10 users/s) 8 batches of 500 wait 400 s by construction: not congestion
    const atFloor: BacklogFigures = { backlogBatches: 8, oldestQueuedAgeSeconds: 324, paceWaitSeconds: 400 };
    expect(measure(age, win(), atFloor)).toBe(0);
    expect(evaluateGuardrails([age], () => win(), atFloor).verdict).toBe('ok');
    // workers that do not keep up: the age beyond the pace's own wait trips it
    const stuck: BacklogFigures = { backlogBatches: 8, oldestQueuedAgeSeconds: 300, paceWaitSeconds: 40 };
    expect(measure(age, win(), stuck)).toBe(260);
    expect(evaluateGuardrails([age], () => win(), stuck).verdict).toBe('throttle');
  });
});

describe('evaluateGuardrails', () => {
  it('is ok when nothing trips (a value equal to the threshold does not trip)', () => {
    const e = evaluateGuardrails([rule({ threshold: 0.05 })], () => win(), backlog);
    expect(e).toEqual({ verdict: 'ok', trips: [], measured: [{ metric: 'failure_ratio', windowSeconds: 300, value: expect.closeTo(0.05) }], failures: [] });
  });

  it.each(['throttle', 'pause', 'halt'] as const)('a trip with action %s gives that verdict and its figures', (action) => {
    const e = evaluateGuardrails([rule({ threshold: 0.01, action })], () => win(), backlog);
    expect(e.verdict).toBe(action);
    expect(e.trips).toEqual([{ metric: 'failure_ratio', value: expect.closeTo(0.05), threshold: 0.01, windowSeconds: 300, action }]);
  });

  it('the most severe trip wins; each rule reads its own window', () => {
    const rules = [rule({ metric: 'backlog_batches', threshold: 1, action: 'throttle' }), rule({ threshold: 0.01, action: 'halt', windowSeconds: 60 }), rule({ metric: 'backend_p95_ms', threshold: 10, action: 'pause' })];
    const windows: Record<number, WindowFigures> = { 60: win(), 300: win({ batches: 0, backendP95Ms: null }) };
    const e = evaluateGuardrails(rules, (w) => windows[w], backlog);
    expect(e.verdict).toBe('halt');
    expect(e.trips.map((t) => t.metric)).toEqual(['backlog_batches', 'failure_ratio']);
    expect(e.measured[2]).toEqual({ metric: 'backend_p95_ms', windowSeconds: 300, value: null });
  });

  it('worst orders ok < throttle < pause < halt', () => {
    expect(worst('ok', 'throttle')).toBe('throttle');
    expect(worst('halt', 'pause')).toBe('halt');
    expect(worst('pause', 'throttle')).toBe('pause');
    expect(worst('ok', 'ok')).toBe('ok');
  });

  it('newTrips reports only trips that were not there before', () => {
    const t = { metric: 'failure_ratio' as const, value: 0.2, threshold: 0.1, windowSeconds: 300, action: 'pause' as const };
    expect(newTrips([], [t])).toEqual([t]);
    expect(newTrips([{ metric: 'failure_ratio', windowSeconds: 300, action: 'pause' }], [t])).toEqual([]);
    expect(newTrips([{ metric: 'failure_ratio', windowSeconds: 60, action: 'pause' }], [t])).toEqual([t]);
  });

  it('rulesOf drops unknown metrics and fills defaults', () => {
    expect(rulesOf([{ metric: 'nope', action: 'halt' }, { metric: 'backlog_batches', action: 'throttle', threshold: 5 }])).toEqual([
      { metric: 'backlog_batches', action: 'throttle', threshold: 5, windowSeconds: 300, minSamples: 50 },
    ]);
    expect(rulesOf('x')).toEqual([]);
  });

  it('the input schema names bad fields', () => {
    const r = guardrailRulesSchema.safeParse([{ metric: 'failure_ratio', threshold: -1, action: 'explode' }]);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['0.action', '0.threshold']);
  });
});

describe('AIMD pace', () => {
  const p: AimdParams = { maxUsersPerSecond: 1000, minUsersPerSecond: 10, increaseRatio: 0.1, decreaseFactor: 0.5, targetQueueAgeSeconds: 30 };

  it('starts at the maximum', () => {
    expect(nextPace(0, 'hold', p)).toBe(1000);
    expect(nextPace(0, 'increase', p)).toBe(1000);
  });

  it('decreases multiplicatively down to the minimum', () => {
    expect(nextPace(1000, 'decrease', p)).toBe(500);
    expect(nextPace(500, 'decrease', p)).toBe(250);
    expect(nextPace(15, 'decrease', p)).toBe(10);
    expect(nextPace(10, 'decrease', p)).toBe(10);
  });

  it('increases additively up to the maximum', () => {
    expect(nextPace(500, 'increase', p)).toBe(600);
    expect(nextPace(950, 'increase', p)).toBe(1000);
  });

  it('a lowered maximum clamps the current pace', () => {
    expect(nextPace(5000, 'hold', p)).toBe(1000);
  });

  it('sawtooth: a decrease then increases come back to the bound', () => {
    let pace = 1000;
    pace = nextPace(pace, 'decrease', p);
    for (let i = 0; i < 10; i++) pace = nextPace(pace, 'increase', p);
    expect(pace).toBe(1000);
  });

  it('direction: throttle and congestion beyond the pace wait decrease, a draining backlog increases', () => {
    expect(paceDirection({ throttled: true, oldestQueuedAgeSeconds: 0, paceWaitSeconds: 0 }, p)).toBe('decrease');
    expect(paceDirection({ throttled: false, oldestQueuedAgeSeconds: 31, paceWaitSeconds: 0 }, p)).toBe('decrease');
    expect(paceDirection({ throttled: false, oldestQueuedAgeSeconds: 100, paceWaitSeconds: 80 }, p)).toBe('hold');
    expect(paceDirection({ throttled: false, oldestQueuedAgeSeconds: 20, paceWaitSeconds: 0 }, p)).toBe('hold');
    expect(paceDirection({ throttled: false, oldestQueuedAgeSeconds: 15, paceWaitSeconds: 0 }, p)).toBe('increase');
    expect(paceDirection({ throttled: false, oldestQueuedAgeSeconds: null, paceWaitSeconds: 0 }, p)).toBe('increase');
  });
});
