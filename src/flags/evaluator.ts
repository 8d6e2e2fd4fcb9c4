import { PPM, SaltedBucketer } from './bucketing';
import type { FlagView, VariantValue } from './flags.types';
import { compileCondition, type ConditionTest, type EvalContext } from './rules';

export const REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT', 'ERROR'] as const;
export type Reason = (typeof REASONS)[number];
export const ERROR_CODES = ['TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'PARSE_ERROR', 'FLAG_NOT_FOUND', 'GENERAL'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * One possible answer of a flag, built once per flag version so that evaluation allocates
 * nothing: `json` is the OFREP body ready to send.
 */
export interface EvalResult {
  readonly ok: true;
  readonly key: string;
  readonly value: VariantValue;
  readonly variant: string;
  readonly reason: Reason;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly json: string;
  /** index into REASONS, for the per-flag counters */
  readonly reasonIndex: number;
}

export interface EvalError {
  readonly ok: false;
  readonly key: string;
  readonly errorCode: ErrorCode;
  readonly errorDetails: string;
  /** the entry of a bulk answer */
  readonly json: string;
  /** the whole answer of a single evaluation: OFREP's fields plus the API's `{code, message, details}` */
  readonly httpJson: string;
}

export type EvalOutcome = EvalResult | EvalError;

/** OFREP's error body with the API's error shape alongside (`code` is `ofrep.<error code>`). */
export function ofrepErrorBody(key: string | undefined, errorCode: ErrorCode, errorDetails: string, details: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(key !== undefined ? { key } : {}), errorCode, errorDetails, code: `ofrep.${errorCode.toLowerCase()}`, message: errorDetails, details: { ...(key !== undefined ? { key } : {}), ...details } };
}

export function evalError(key: string, errorCode: ErrorCode, errorDetails: string): EvalError {
  const json = JSON.stringify({ key, errorCode, errorDetails });
  return { ok: false, key, errorCode, errorDetails, json, httpJson: JSON.stringify(ofrepErrorBody(key, errorCode, errorDetails)) };
}

function result(flag: FlagView, variant: string, reason: Reason, extra?: Record<string, unknown>): EvalResult {
  const metadata = Object.freeze({ flagVersion: flag.version, ...extra });
  const value = flag.variants[variant];
  const body = { key: flag.key, value, reason, variant, metadata };
  return Object.freeze({ ok: true as const, key: flag.key, value, variant, reason, metadata, json: JSON.stringify(body), reasonIndex: REASONS.indexOf(reason) });
}

interface CompiledRule {
  tests: ConditionTest[];
  /** set when the rule leads to a variant */
  target: EvalResult | null;
  rolloutPpm: number;
  rolloutResult: EvalResult | null;
}

/** A flag ready for evaluation: everything resolvable ahead of a request is resolved here. */
export interface CompiledFlag {
  readonly id: bigint;
  readonly idKey: string;
  readonly key: string;
  readonly version: number;
  readonly killed: boolean;
  readonly rolloutPpm: number;
  readonly onVariant: string;
  readonly bucketer: SaltedBucketer;
  readonly rules: readonly CompiledRule[];
  readonly disabled: EvalResult;
  readonly fallthrough: { readonly on: EvalResult; readonly off: EvalResult };
  /** the answer for a user the ratchet keeps enabled (killed flag or lowered rollout) */
  readonly ratchet: EvalResult;
  readonly keyMissing: EvalError;
  /** evaluations per reason since the last drain (REASONS order) */
  readonly counts: Float64Array;
}

export function compileFlag(flag: FlagView): CompiledFlag {
  const noRules = flag.rules.length === 0;
  const everyoneSame = flag.rolloutPpm === 0 || flag.rolloutPpm === PPM;
  const fallReason: Reason = everyoneSame ? (noRules ? 'STATIC' : 'DEFAULT') : 'SPLIT';
  return {
    id: flag.id,
    idKey: flag.id.toString(),
    key: flag.key,
    version: flag.version,
    killed: flag.killed,
    rolloutPpm: flag.rolloutPpm,
    onVariant: flag.rolloutVariant,
    bucketer: new SaltedBucketer(flag.salt),
    rules: flag.rules.map((r, i) => ({
      tests: r.conditions.map(compileCondition),
      target: r.variant !== undefined ? result(flag, r.variant, 'TARGETING_MATCH', { rule: r.name ?? i }) : null,
      rolloutPpm: r.rollout?.ppm ?? 0,
      rolloutResult: r.rollout ? result(flag, r.rollout.variant, 'SPLIT', { rule: r.name ?? i }) : null,
    })),
    disabled: result(flag, flag.offVariant, 'DISABLED'),
    fallthrough: { on: result(flag, flag.rolloutVariant, fallReason), off: result(flag, flag.offVariant, fallReason) },
    ratchet: result(flag, flag.rolloutVariant, 'TARGETING_MATCH', { ratchet: 'enabled' }),
    keyMissing: evalError(flag.key, 'TARGETING_KEY_MISSING', 'this flag splits users by targetingKey; send context.targetingKey'),
    counts: new Float64Array(REASONS.length),
  };
}

export function targetingKeyOf(ctx: EvalContext): string | null {
  const k = ctx.targetingKey;
  return typeof k === 'string' && k !== '' ? k : null;
}

function matchesAll(tests: readonly ConditionTest[], ctx: EvalContext): boolean {
  for (let i = 0; i < tests.length; i++) if (!tests[i](ctx)) return false;
  return true;
}

/**
 * The bucket the last `evaluate` call computed (-1 when it needed none), so that the ratchet
 * check does not hash again. Evaluation is synchronous, so nothing can interleave.
 */
export const lastBucket = { value: -1 };

/**
 * Evaluates without I/O: kill switch, then rules in order (a rule's rollout that does not
 * include the user falls through to the next rule), then the fallthrough rollout. The
 * ratchet (users already enabled) is applied by the caller, which owns the I/O.
 */
export function evaluate(f: CompiledFlag, ctx: EvalContext): EvalOutcome {
  lastBucket.value = -1;
  if (f.killed) return f.disabled;
  let bucket = -1;
  for (let i = 0; i < f.rules.length; i++) {
    const r = f.rules[i];
    if (!matchesAll(r.tests, ctx)) continue;
    if (r.target) return r.target;
    if (r.rolloutPpm === 0) continue;
    if (bucket < 0) {
      const key = targetingKeyOf(ctx);
      if (key === null) return f.keyMissing;
      bucket = lastBucket.value = f.bucketer.bucket(key);
    }
    if (bucket < r.rolloutPpm) return r.rolloutResult!;
  }
  if (f.rolloutPpm === 0) return f.fallthrough.off;
  if (f.rolloutPpm === PPM) return f.fallthrough.on;
  if (bucket < 0) {
    const key = targetingKeyOf(ctx);
    if (key === null) return f.keyMissing;
    bucket = lastBucket.value = f.bucketer.bucket(key);
  }
  return bucket < f.rolloutPpm ? f.fallthrough.on : f.fallthrough.off;
}
