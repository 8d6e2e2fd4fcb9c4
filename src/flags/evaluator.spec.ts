import fc from 'fast-check';
import { bucketOf } from './bucketing';
import { compileFlag, evaluate, type EvalOutcome } from './evaluator';
import type { Condition, FlagView, Rule } from './flags.types';
import { compileCondition, parseSemver } from './rules';

function flag(over: Partial<FlagView> = {}): FlagView {
  const at = new Date(0);
  return {
    id: 1n, key: 'f', description: '', kind: 'boolean', variants: { on: true, off: false }, offVariant: 'off', rolloutVariant: 'on',
    rules: [], rolloutPpm: 0, salt: 'salt', hashVersion: 1, killed: false, killReason: null, killedAt: null, archivedAt: null,
    version: 3, createdAt: at, updatedAt: at, ...over,
  };
}
const ok = (o: EvalOutcome) => {
  if (!o.ok) throw new Error(`expected a value, got ${o.errorCode}`);
  return o;
};
const test = (c: Condition, ctx: Record<string, unknown>) => compileCondition(c)(ctx);

describe('conditions', () => {
  it.each<[Condition, Record<string, unknown>, boolean]>([
    [{ attribute: 'country', operator: 'equals', value: 'DE' }, { country: 'DE' }, true],
    [{ attribute: 'country', operator: 'equals', value: 'DE' }, { country: 'de' }, false],
    [{ attribute: 'beta', operator: 'equals', value: true }, { beta: true }, true],
    [{ attribute: 'beta', operator: 'equals', value: true }, { beta: 'true' }, true],
    [{ attribute: 'beta', operator: 'equals', value: true }, {}, false],
    [{ attribute: 'country', operator: 'in', values: ['DE', 'AT'] }, { country: 'AT' }, true],
    [{ attribute: 'country', operator: 'in', values: ['DE', 'AT'] }, { country: 'FR' }, false],
    [{ attribute: 'country', operator: 'in', values: ['DE'] }, {}, false],
    [{ attribute: 'country', operator: 'not_in', values: ['DE'] }, { country: 'FR' }, true],
    [{ attribute: 'country', operator: 'not_in', values: ['DE'] }, { country: 'DE' }, false],
    [{ attribute: 'country', operator: 'not_in', values: ['DE'] }, {}, true],
    [{ attribute: 'tier', operator: 'in', values: [1, 2] }, { tier: 2 }, true],
    [{ attribute: 'platform', operator: 'starts_with', value: 'and' }, { platform: 'android' }, true],
    [{ attribute: 'platform', operator: 'starts_with', value: 'and' }, { platform: 'ios' }, false],
    [{ attribute: 'email', operator: 'ends_with', value: '@corp.example' }, { email: 'a@corp.example' }, true],
    [{ attribute: 'email', operator: 'ends_with', value: '@corp.example' }, { email: { x: 1 } }, false],
    [{ attribute: 'appVersion', operator: 'semver_gte', value: '5.2.0' }, { appVersion: '5.10.0' }, true],
    [{ attribute: 'appVersion', operator: 'semver_gte', value: '5.2.0' }, { appVersion: '5.2.0' }, true],
    [{ attribute: 'appVersion', operator: 'semver_gte', value: '5.2.0' }, { appVersion: '5.1.99' }, false],
    [{ attribute: 'appVersion', operator: 'semver_gte', value: '5.2.0' }, { appVersion: 'banana' }, false],
    [{ attribute: 'appVersion', operator: 'semver_lt', value: '5.2.0' }, { appVersion: 'v4.9.9-beta.1' }, true],
    [{ attribute: 'appVersion', operator: 'semver_lt', value: '5.2.0' }, { appVersion: '5.2.0' }, false],
    [{ attribute: 'appVersion', operator: 'semver_lt', value: '5.2.0' }, {}, false],
    [{ attribute: 'age', operator: 'number_gt', value: 17 }, { age: 18 }, true],
    [{ attribute: 'age', operator: 'number_gt', value: 17 }, { age: '18' }, true],
    [{ attribute: 'age', operator: 'number_gt', value: 17 }, { age: 17 }, false],
    [{ attribute: 'age', operator: 'number_lt', value: 17 }, { age: 'x' }, false],
    [{ attribute: 'age', operator: 'number_lt', value: 17 }, { age: 3 }, true],
    [{ attribute: 'org', operator: 'exists' }, { org: 'x' }, true],
    [{ attribute: 'org', operator: 'exists' }, { org: null }, false],
    [{ attribute: 'org', operator: 'exists' }, {}, false],
  ])('%j on %j is %s', (c, ctx, want) => {
    expect(test(c, ctx)).toBe(want);
  });

  it('semver compares numerically per component', () => {
    fc.assert(
      fc.property(fc.tuple(fc.nat(999), fc.nat(999), fc.nat(999)), fc.tuple(fc.nat(999), fc.nat(999), fc.nat(999)), (a, b) => {
        const cmp = a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
        const pa = parseSemver(a.join('.'))!;
        const pb = parseSemver(b.join('.'))!;
        expect(Math.sign(pa - pb)).toBe(Math.sign(cmp));
      }),
    );
  });
});

describe('evaluate', () => {
  const de: Rule = { name: 'de', conditions: [{ attribute: 'country', operator: 'equals', value: 'DE' }], variant: 'on' };

  it('gives STATIC when everyone gets the same answer and there are no rules', () => {
    expect(ok(evaluate(compileFlag(flag({ rolloutPpm: 1_000_000 })), {}))).toMatchObject({ value: true, variant: 'on', reason: 'STATIC', metadata: { flagVersion: 3 } });
    expect(ok(evaluate(compileFlag(flag({ rolloutPpm: 0 })), {}))).toMatchObject({ value: false, variant: 'off', reason: 'STATIC' });
  });

  it('a killed flag is its off variant with DISABLED, whatever rules and rollout say', () => {
    const f = compileFlag(flag({ killed: true, rolloutPpm: 1_000_000, rules: [de] }));
    expect(ok(evaluate(f, { country: 'DE', targetingKey: '1' }))).toMatchObject({ value: false, reason: 'DISABLED' });
  });

  it('rules come first, in order; no match falls through to the rollout (DEFAULT at 0%)', () => {
    const f = compileFlag(flag({ rules: [de] }));
    expect(ok(evaluate(f, { country: 'DE' }))).toMatchObject({ value: true, reason: 'TARGETING_MATCH', metadata: { rule: 'de' } });
    expect(ok(evaluate(f, { country: 'FR' }))).toMatchObject({ value: false, reason: 'DEFAULT' });
  });

  it('a rule rollout admits bucket < ppm and lets others fall through', () => {
    const rule: Rule = { conditions: [{ attribute: 'platform', operator: 'equals', value: 'ios' }], rollout: { ppm: 500_000, variant: 'on' } };
    const f = compileFlag(flag({ rules: [rule] }));
    for (let i = 0; i < 200; i++) {
      const key = String(i);
      const out = ok(evaluate(f, { platform: 'ios', targetingKey: key }));
      const inside = bucketOf('salt', key) < 500_000;
      expect(out).toMatchObject(inside ? { value: true, reason: 'SPLIT' } : { value: false, reason: 'DEFAULT' });
    }
  });

  it('the fallthrough rollout is SPLIT and follows bucketOf exactly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 999_999 }), (key, ppm) => {
        const out = ok(evaluate(compileFlag(flag({ rolloutPpm: ppm })), { targetingKey: key }));
        expect(out.reason).toBe('SPLIT');
        expect(out.value).toBe(bucketOf('salt', key) < ppm);
      }),
      { numRuns: 300 },
    );
  });

  it('needs a targeting key only when it has to bucket', () => {
    const split = evaluate(compileFlag(flag({ rolloutPpm: 10 })), {});
    expect(split).toMatchObject({ ok: false, errorCode: 'TARGETING_KEY_MISSING', key: 'f' });
    expect(JSON.parse(split.json)).toEqual({ key: 'f', errorCode: 'TARGETING_KEY_MISSING', errorDetails: expect.any(String) });
    expect(evaluate(compileFlag(flag({ rolloutPpm: 10, rules: [de] })), { country: 'DE' })).toMatchObject({ ok: true, value: true });
  });

  it('pre-serialises the OFREP body of each answer', () => {
    const out = ok(evaluate(compileFlag(flag({ rolloutPpm: 1_000_000 })), {}));
    expect(JSON.parse(out.json)).toEqual({ key: 'f', value: true, reason: 'STATIC', variant: 'on', metadata: { flagVersion: 3 } });
  });

  it('string flags answer their variant values', () => {
    const f = compileFlag(flag({ kind: 'string', variants: { a: 'legacy', b: 'e2ee' }, offVariant: 'a', rolloutVariant: 'b', rolloutPpm: 1_000_000 }));
    expect(ok(evaluate(f, {}))).toMatchObject({ value: 'e2ee', variant: 'b' });
  });
});
