/**
 * Guardrail decisions: measured window figures in, a verdict and the trips out. Pure.
 */
import type { GuardrailVerdict } from './ramp-plan';

export const GUARDRAIL_METRICS = [
  'failure_ratio',
  'backlog_batches',
  'oldest_queued_age_seconds',
  'backend_error_rate',
  'backend_p95_ms',
] as const;
export type GuardrailMetric = (typeof GUARDRAIL_METRICS)[number];

export const GUARDRAIL_ACTIONS = ['throttle', 'pause', 'halt'] as const;
export type GuardrailAction = (typeof GUARDRAIL_ACTIONS)[number];

export interface GuardrailRule {
  metric: GuardrailMetric;
  /** trips when the measured value is strictly above */
  threshold: number;
  windowSeconds: number;
  action: GuardrailAction;
  /** ratio metrics are ignored below this many user outcomes in the window */
  minSamples: number;
}

/** What one window of migration_batches says (see GuardrailsRepository.window). */
export interface WindowFigures {
  /** users whose outcome was recorded: enabled + failed + sent back for a retry */
  outcomes: number;
  enabled: number;
  failed: number;
  retried: number;
  /** batches with a backend time in the window */
  batches: number;
  backendP95Ms: number | null;
}

/** Figures that are not windowed: the backlog right now. */
export interface BacklogFigures {
  backlogBatches: number;
  oldestQueuedAgeSeconds: number | null;
  /** how long the backlog waits because of the campaign's own pace (backlog users / pace) */
  paceWaitSeconds?: number;
}

export interface Trip {
  metric: GuardrailMetric;
  value: number;
  threshold: number;
  windowSeconds: number;
  action: GuardrailAction;
}

export interface GuardrailEvaluation {
  verdict: GuardrailVerdict;
  trips: Trip[];
  /** every rule's measured value (null: not enough data) */
  measured: Array<{ metric: GuardrailMetric; windowSeconds: number; value: number | null }>;
}

const SEVERITY: Record<GuardrailVerdict, number> = { ok: 0, throttle: 1, pause: 2, halt: 3 };

export function worst(a: GuardrailVerdict, b: GuardrailVerdict): GuardrailVerdict {
  return SEVERITY[a] >= SEVERITY[b] ? a : b;
}

/** The value a rule measures, or null when the window holds too little to judge. */
export function measure(rule: GuardrailRule, w: WindowFigures, b: BacklogFigures): number | null {
  switch (rule.metric) {
    case 'failure_ratio': {
      const settled = w.enabled + w.failed;
      return settled >= rule.minSamples && settled > 0 ? w.failed / settled : null;
    }
    case 'backend_error_rate':
      return w.outcomes >= rule.minSamples && w.outcomes > 0 ? (w.failed + w.retried) / w.outcomes : null;
    case 'backend_p95_ms':
      return w.batches > 0 ? w.backendP95Ms : null;
    case 'backlog_batches':
      return b.backlogBatches;
    case 'oldest_queued_age_seconds':
      // the wait beyond what the pace itself imposes: counted raw, a throttle tripped by it
      // lowered the pace, which made batches wait longer, which kept it tripped for ever
      return b.oldestQueuedAgeSeconds === null ? null : Math.max(0, b.oldestQueuedAgeSeconds - Math.max(0, b.paceWaitSeconds ?? 0));
  }
}

/** Evaluates every rule against its window; the verdict is the most severe action tripped. */
export function evaluateGuardrails(
  rules: readonly GuardrailRule[],
  windowOf: (windowSeconds: number) => WindowFigures,
  backlog: BacklogFigures,
): GuardrailEvaluation {
  const trips: Trip[] = [];
  const measured: GuardrailEvaluation['measured'] = [];
  let verdict: GuardrailVerdict = 'ok';
  for (const rule of rules) {
    const value = measure(rule, windowOf(rule.windowSeconds), backlog);
    measured.push({ metric: rule.metric, windowSeconds: rule.windowSeconds, value });
    if (value !== null && value > rule.threshold) {
      trips.push({ metric: rule.metric, value, threshold: rule.threshold, windowSeconds: rule.windowSeconds, action: rule.action });
      verdict = worst(verdict, rule.action);
    }
  }
  return { verdict, trips, measured };
}

/** Trips present now that were not in the previous evaluation (those get audited). */
export function newTrips(previous: readonly Pick<Trip, 'metric' | 'action' | 'windowSeconds'>[], current: readonly Trip[]): Trip[] {
  const key = (t: Pick<Trip, 'metric' | 'action' | 'windowSeconds'>) => `${t.metric}/${t.windowSeconds}/${t.action}`;
  const seen = new Set(previous.map(key));
  return current.filter((t) => !seen.has(key(t)));
}

/** Lenient read of the JSON column (validated on the way in by guardrailRulesSchema). */
export function rulesOf(json: unknown): GuardrailRule[] {
  if (!Array.isArray(json)) return [];
  return json
    .map((raw) => (raw ?? {}) as Record<string, unknown>)
    .filter((r) => (GUARDRAIL_METRICS as readonly unknown[]).includes(r.metric) && (GUARDRAIL_ACTIONS as readonly unknown[]).includes(r.action))
    .map((r) => ({
      metric: r.metric as GuardrailMetric,
      threshold: Number(r.threshold ?? 0),
      windowSeconds: Number(r.windowSeconds ?? 300),
      action: r.action as GuardrailAction,
      minSamples: Number(r.minSamples ?? 50),
    }));
}
