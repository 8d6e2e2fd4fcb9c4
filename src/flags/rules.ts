import type { Condition } from './flags.types';

/** A context as OFREP sends it: `targetingKey` plus any attributes. */
export type EvalContext = Readonly<Record<string, unknown>>;

export type ConditionTest = (ctx: EvalContext) => boolean;

/** `x.y.z` (optional leading `v`, anything after the patch ignored) as one comparable number. */
export function parseSemver(s: string): number | null {
  const m = /^v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[-+].*)?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * 1e12 + Number(m[2]) * 1e6 + Number(m[3]);
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Compiles one condition into a test over the context; scalars compare by their string form. */
export function compileCondition(c: Condition): ConditionTest {
  const attr = c.attribute;
  switch (c.operator) {
    case 'exists':
      return (ctx) => ctx[attr] !== undefined && ctx[attr] !== null;
    case 'equals': {
      const want = String(c.value);
      return (ctx) => scalar(ctx[attr]) === want;
    }
    case 'in':
    case 'not_in': {
      const set = new Set((c.values ?? []).map(String));
      const inside = c.operator === 'in';
      return (ctx) => {
        const v = scalar(ctx[attr]);
        return v === null ? !inside : set.has(v) === inside;
      };
    }
    case 'starts_with': {
      const want = String(c.value);
      return (ctx) => scalar(ctx[attr])?.startsWith(want) ?? false;
    }
    case 'ends_with': {
      const want = String(c.value);
      return (ctx) => scalar(ctx[attr])?.endsWith(want) ?? false;
    }
    case 'semver_gte':
    case 'semver_lt': {
      const want = parseSemver(String(c.value));
      const gte = c.operator === 'semver_gte';
      return (ctx) => {
        const s = scalar(ctx[attr]);
        const v = s === null ? null : parseSemver(s);
        return v !== null && want !== null && (gte ? v >= want : v < want);
      };
    }
    case 'number_gt':
    case 'number_lt': {
      const want = Number(c.value);
      const gt = c.operator === 'number_gt';
      return (ctx) => {
        const v = toNumber(ctx[attr]);
        return v !== null && (gt ? v > want : v < want);
      };
    }
  }
}
