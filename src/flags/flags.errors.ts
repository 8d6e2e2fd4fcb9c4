import { ConflictError } from '../core/errors/domain-error';
import { ValidationError, type FieldIssue } from '../core/validation/zod.pipe';
import type { FlagKind, Rule, VariantValue } from './flags.types';

export class FlagKeyTakenError extends ConflictError {
  constructor(key: string) {
    super('flag.key_taken', `a flag with key ${key} already exists`);
  }
}

export class SaltFrozenError extends ConflictError {
  constructor(key: string, what: string) {
    super('flag.salt_frozen', `${what} of flag ${key} cannot change while a campaign using it is running or paused`);
  }
}

export class FlagArchivedError extends ConflictError {
  constructor(key: string) {
    super('flag.archived', `flag ${key} is archived`);
  }
}

/** Cross-field rules that a single-field schema cannot see; throws a 400 naming the fields. */
export function assertFlagShape(f: { kind: FlagKind; variants: Record<string, VariantValue>; offVariant: string; rolloutVariant: string; rules: Rule[] }): void {
  const issues: FieldIssue[] = [];
  const want = f.kind === 'boolean' ? 'boolean' : 'string';
  for (const [name, value] of Object.entries(f.variants)) {
    if (typeof value !== want) issues.push({ field: `body.variants.${name}`, message: `a ${f.kind} flag needs ${want} values` });
  }
  const known = (field: string, name: string) => {
    if (!(name in f.variants)) issues.push({ field, message: `variant "${name}" is not one of ${Object.keys(f.variants).join(', ')}` });
  };
  known('body.offVariant', f.offVariant);
  known('body.rolloutVariant', f.rolloutVariant);
  f.rules.forEach((r, i) => {
    if (r.variant !== undefined) known(`body.rules.${i}.variant`, r.variant);
    if (r.rollout) known(`body.rules.${i}.rollout.variant`, r.rollout.variant);
  });
  if (issues.length > 0) throw new ValidationError(issues);
}
