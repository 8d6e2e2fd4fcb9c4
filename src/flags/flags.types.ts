export const OPERATORS = [
  'equals',
  'in',
  'not_in',
  'starts_with',
  'ends_with',
  'semver_gte',
  'semver_lt',
  'number_gt',
  'number_lt',
  'exists',
] as const;
export type Operator = (typeof OPERATORS)[number];

export type FlagKind = 'boolean' | 'string';
export type VariantValue = boolean | string;

export interface Condition {
  /** a context field: `country`, `platform`, `appVersion`, `targetingKey` or any custom one */
  attribute: string;
  operator: Operator;
  /** one value for equals, starts_with, ends_with, semver and number operators; a list for in/not_in; none for exists */
  value?: string | number | boolean;
  values?: Array<string | number | boolean>;
}

/** All conditions must match; then the rule gives `variant`, or `rollout.variant` to users inside `rollout.ppm`. */
export interface Rule {
  name?: string;
  conditions: Condition[];
  variant?: string;
  rollout?: { ppm: number; variant: string };
}

export interface FlagView {
  id: bigint;
  key: string;
  description: string;
  kind: FlagKind;
  variants: Record<string, VariantValue>;
  offVariant: string;
  rolloutVariant: string;
  rules: Rule[];
  rolloutPpm: number;
  salt: string;
  hashVersion: number;
  killed: boolean;
  killReason: string | null;
  killedAt: Date | null;
  archivedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields a flag write may change (after validation). */
export interface FlagChanges {
  description?: string;
  variants?: Record<string, VariantValue>;
  offVariant?: string;
  rolloutVariant?: string;
  rules?: Rule[];
  rolloutPpm?: number;
  salt?: string;
  hashVersion?: number;
  killed?: boolean;
  killReason?: string | null;
  killedAt?: Date | null;
  archivedAt?: Date | null;
}

export interface NewFlag {
  key: string;
  description: string;
  kind: FlagKind;
  variants: Record<string, VariantValue>;
  offVariant: string;
  rolloutVariant: string;
  rules: Rule[];
  rolloutPpm: number;
  salt: string;
  hashVersion: number;
}
