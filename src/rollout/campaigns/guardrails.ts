/**
 * Guardrail decisions: measured window figures in, a verdict and the trips out. Pure.
 */
import type { GuardrailVerdict } from './ramp-plan';

/** Built-in database-health indicators, read from PostgreSQL's statistics views at each tick. */
export const DB_HEALTH_METRICS = ['db_autovacuum_running', 'db_wal_bytes_per_second', 'db_replication_lag_seconds', 'db_oldest_xact_age_seconds'] as const;
export type DbHealthMetric = (typeof DB_HEALTH_METRICS)[number];
export const isExternal = (m: GuardrailMetric): m is DbHealthMetric | 'prometheus' => m === 'prometheus' || (DB_HEALTH_METRICS as readonly string[]).includes(m);

export const GUARDRAIL_METRICS = [
  'failure_ratio',
  'backlog_batches',
  'oldest_queued_age_seconds',
  'backend_error_rate',
  'backend_p95_ms',
  ...DB_HEALTH_METRICS,
  'prometheus',
] as const;
export type GuardrailMetric = (typeof GUARDRAIL_METRICS)[number];

/** hold: the step does not advance and the pace stays where it is */
export const GUARDRAIL_ACTIONS = ['hold', 'throttle', 'pause', 'halt'] as const;
export type GuardrailAction = (typeof GUARDRAIL_ACTIONS)[number];

export const COMPARISONS = ['above', 'below'] as const;
export type Comparison = (typeof COMPARISONS)[number];
export const QUERY_ERROR_OUTCOMES = ['hold', 'ignore'] as const;
export type QueryErrorOutcome = (typeof QUERY_ERROR_OUTCOMES)[number];

export interface GuardrailRule {
  metric: GuardrailMetric;
  /** trips when the measured value is strictly above (or below, see comparison) */
  threshold: number;
  windowSeconds: number;
  action: GuardrailAction;
  /** ratio metrics are ignored below this many user outcomes in the window; prometheus rules below this many points */
  minSamples: number;
  /** prometheus rules only: the PromQL expression ($window becomes the window, e.g. 300s) */
  query?: string;
  /** prometheus rules only; built-in metrics always trip above */
  comparison?: Comparison;
  /** prometheus rules only: what a failed query does (hold the step, or nothing) */
  onQueryError?: QueryErrorOutcome;
}

/** A value read outside the migration tables: a Prometheus query or a database-health indicator. */
export interface ExternalReading {
  status: 'ok' | 'no_data' | 'error';
  value: number | null;
  samples?: number;
  error?: string;
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
  query?: string;
  comparison?: Comparison;
}

export interface Measured {
  metric: GuardrailMetric;
  windowSeconds: number;
  value: number | null;
  query?: string;
  /** external rules: ok, no_data (too few samples) or error (the query or read failed) */
  status?: ExternalReading['status'];
  samples?: number;
  error?: string;
}

/** A failed external read whose rule says to hold the step (onQueryError: hold). */
export interface QueryFailure {
  metric: GuardrailMetric;
  query?: string;
  windowSeconds: number;
  error: string;
  outcome: QueryErrorOutcome;
}

export interface GuardrailEvaluation {
  verdict: GuardrailVerdict;
  trips: Trip[];
  /** every rule's measured value (null: not enough data) */
  measured: Measured[];
  failures: QueryFailure[];
}

const SEVERITY: Record<GuardrailVerdict, number> = { ok: 0, hold: 1, throttle: 2, pause: 3, halt: 4 };

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
    case 'db_autovacuum_running':
    case 'db_wal_bytes_per_second':
    case 'db_replication_lag_seconds':
    case 'db_oldest_xact_age_seconds':
    case 'prometheus':
      return null; // read outside the window figures (evaluateGuardrails' `external`)
    case 'oldest_queued_age_seconds':
      // the wait beyond what the pace itself imposes: counted raw, a throttle tripped by it
      // lowered the pace, which made batches wait longer, which kept it tripped for ever
      return b.oldestQueuedAgeSeconds === null ? null : Math.max(0, b.oldestQueuedAgeSeconds - Math.max(0, b.paceWaitSeconds ?? 0));
  }
}

/** Evaluates every rule against its window; the verdict is the most severe action tripped. */
export function crosses(rule: Pick<GuardrailRule, 'threshold' | 'comparison'>, value: number): boolean {
  return rule.comparison === 'below' ? value < rule.threshold : value > rule.threshold;
}

/**
 * Evaluates every rule against its window; the verdict is the most severe action tripped.
 * External rules (Prometheus, database health) read `external(ruleIndex)`, fetched before.
 * A failed external read never passes silently: it holds the step unless its rule says ignore.
 */
export function evaluateGuardrails(
  rules: readonly GuardrailRule[],
  windowOf: (windowSeconds: number) => WindowFigures,
  backlog: BacklogFigures,
  external: (ruleIndex: number) => ExternalReading | undefined = () => undefined,
): GuardrailEvaluation {
  const trips: Trip[] = [];
  const measured: Measured[] = [];
  const failures: QueryFailure[] = [];
  let verdict: GuardrailVerdict = 'ok';
  rules.forEach((rule, i) => {
    const base = { metric: rule.metric, windowSeconds: rule.windowSeconds, ...(rule.query !== undefined && { query: rule.query }) };
    let value: number | null;
    if (isExternal(rule.metric)) {
      const r = external(i) ?? { status: 'error', value: null, error: 'not read' };
      value = r.status === 'ok' ? r.value : null;
      measured.push({ ...base, value, status: r.status, ...(r.samples !== undefined && { samples: r.samples }), ...(r.error !== undefined && { error: r.error }) });
      if (r.status === 'error') {
        const outcome = rule.onQueryError ?? 'hold';
        failures.push({ ...base, error: r.error ?? 'unknown error', outcome });
        if (outcome === 'hold') verdict = worst(verdict, 'hold');
      }
    } else {
      value = measure(rule, windowOf(rule.windowSeconds), backlog);
      measured.push({ ...base, value });
    }
    if (value !== null && crosses(rule, value)) {
      trips.push({ ...base, value, threshold: rule.threshold, action: rule.action, ...(rule.comparison === 'below' && { comparison: 'below' as const }) });
      verdict = worst(verdict, rule.action);
    }
  });
  return { verdict, trips, measured, failures };
}

type TripKey = Pick<Trip, 'metric' | 'action' | 'windowSeconds' | 'query'>;
const tripKey = (t: TripKey) => `${t.metric}/${t.windowSeconds}/${t.action}/${t.query ?? ''}`;
export const sameTrip = (a: TripKey, b: TripKey) => tripKey(a) === tripKey(b);

/** Trips present now that were not in the previous evaluation (those get audited). */
export function newTrips(previous: readonly TripKey[], current: readonly Trip[]): Trip[] {
  const seen = new Set(previous.map(tripKey));
  return current.filter((t) => !seen.has(tripKey(t)));
}

/** Failures present now that were not in the previous evaluation (audited once, like trips). */
export function newFailures(previous: readonly QueryFailure[], current: readonly QueryFailure[]): QueryFailure[] {
  const key = (f: QueryFailure) => `${f.metric}/${f.windowSeconds}/${f.query ?? ''}`;
  const seen = new Set(previous.map(key));
  return current.filter((f) => !seen.has(key(f)));
}

/** One line a person reads: what tripped, by how much, and what it does. */
export function describeTrip(t: Trip): string {
  const v = Number.isInteger(t.value) ? String(t.value) : t.value.toFixed(4);
  const what = t.metric === 'prometheus' ? `prometheus ${t.query ?? ''}` : t.metric;
  return `${what} ${v} ${t.comparison === 'below' ? '<' : '>'} ${t.threshold} over ${t.windowSeconds}s → ${t.action}`;
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
      ...(typeof r.query === 'string' && { query: r.query }),
      ...(r.comparison === 'below' && { comparison: 'below' as const }),
      ...(r.metric === 'prometheus' && { onQueryError: r.onQueryError === 'ignore' ? ('ignore' as const) : ('hold' as const) }),
    }));
}
