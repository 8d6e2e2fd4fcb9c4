import { z } from 'zod';
import { keySchema, limitSchema, reasonSchema } from '../core/validation/common.schemas';
import { PPM } from './bucketing';
import { parseSemver } from './rules';
import { OPERATORS } from './flags.types';

const variantNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'variant names are 1-64 letters, digits, ".", "_" or "-"');
const scalarSchema = z.union([z.string().max(1000), z.number().finite(), z.boolean()]);

export const ppmSchema = z.number().int().min(0).max(PPM);
export const percentSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 10_000 - Math.round(p * 10_000)) < 1e-6, 'at most 4 decimals');

/** Percent (≤ 4 decimals) to parts per million, exactly. */
export function percentToPpm(p: number): number {
  return Math.round(p * 10_000);
}

const conditionSchema = z
  .strictObject({
    attribute: z.string().min(1).max(128),
    operator: z.enum(OPERATORS),
    value: scalarSchema.optional(),
    values: z.array(scalarSchema).min(1).max(10_000).optional(),
  })
  .superRefine((c, ctx) => {
    const need = (field: 'value' | 'values', ok: boolean, message: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path: [field], message });
    };
    switch (c.operator) {
      case 'in':
      case 'not_in':
        return need('values', c.values !== undefined, `${c.operator} needs "values" (a list)`);
      case 'exists':
        return need('value', c.value === undefined && c.values === undefined, 'exists takes no value');
      case 'semver_gte':
      case 'semver_lt':
        return need('value', typeof c.value === 'string' && parseSemver(c.value) !== null, `${c.operator} needs "value" as x.y.z`);
      case 'number_gt':
      case 'number_lt':
        return need('value', typeof c.value === 'number', `${c.operator} needs a numeric "value"`);
      case 'equals':
        return need('value', c.value !== undefined, 'equals needs "value"');
      case 'starts_with':
      case 'ends_with':
        return need('value', typeof c.value === 'string', `${c.operator} needs a string "value"`);
    }
  });

const ruleSchema = z
  .strictObject({
    name: z.string().max(200).optional(),
    conditions: z.array(conditionSchema).min(1).max(50),
    variant: variantNameSchema.optional(),
    rollout: z
      .strictObject({ ppm: ppmSchema.optional(), percent: percentSchema.optional(), variant: variantNameSchema })
      .refine((r) => (r.ppm === undefined) !== (r.percent === undefined), 'give exactly one of ppm or percent')
      .transform((r) => ({ ppm: r.ppm ?? percentToPpm(r.percent!), variant: r.variant }))
      .optional(),
  })
  .refine((r) => (r.variant === undefined) !== (r.rollout === undefined), 'a rule leads to exactly one of "variant" or "rollout"');

const variantsSchema = z
  .record(variantNameSchema, z.union([z.boolean(), z.string().max(1000)]))
  .refine((v) => Object.keys(v).length >= 2 && Object.keys(v).length <= 100, 'between 2 and 100 variants');

const saltSchema = z.string().min(1).max(128);
/** Only murmur3_x86_32 (version 1) exists; a new algorithm would add a literal here. */
const hashVersionSchema = z.literal(1);

const editable = {
  description: z.string().max(2000).optional(),
  variants: variantsSchema.optional(),
  offVariant: variantNameSchema.optional(),
  rolloutVariant: variantNameSchema.optional(),
  rules: z.array(ruleSchema).max(100).optional(),
  rolloutPpm: ppmSchema.optional(),
  rolloutPercent: percentSchema.optional(),
  salt: saltSchema.optional(),
  hashVersion: hashVersionSchema.optional(),
};

const onePpm = (v: { rolloutPpm?: number; rolloutPercent?: number }) => !(v.rolloutPpm !== undefined && v.rolloutPercent !== undefined);
const ONE_PPM = { message: 'give rolloutPpm or rolloutPercent, not both', path: ['rolloutPercent'] };

export const createFlagSchema = z
  .strictObject({ key: keySchema, kind: z.enum(['boolean', 'string']).default('boolean'), ...editable })
  .refine(onePpm, ONE_PPM)
  .meta({ id: 'CreateFlagRequest' });
export type CreateFlagInput = z.infer<typeof createFlagSchema>;

export const updateFlagSchema = z
  .strictObject({ ...editable, reason: reasonSchema.optional() })
  .refine(onePpm, ONE_PPM)
  .refine((v) => Object.keys(v).some((k) => k !== 'reason'), 'nothing to change')
  .meta({ id: 'UpdateFlagRequest' });
export type UpdateFlagInput = z.infer<typeof updateFlagSchema>;

export const setRolloutSchema = z
  .strictObject({ rolloutPpm: ppmSchema.optional(), rolloutPercent: percentSchema.optional(), reason: reasonSchema.optional() })
  .refine((v) => (v.rolloutPpm === undefined) !== (v.rolloutPercent === undefined), { message: 'give exactly one of rolloutPpm or rolloutPercent', path: ['rolloutPpm'] })
  .meta({ id: 'SetRolloutRequest' });
export type SetRolloutInput = z.infer<typeof setRolloutSchema>;

export const reasonBodySchema = z.strictObject({ reason: reasonSchema }).meta({ id: 'ReasonRequest' });
export type ReasonBodyInput = z.infer<typeof reasonBodySchema>;

export const flagKeyParamSchema = z.strictObject({ key: keySchema });

export const listFlagsSchema = z.strictObject({
  cursor: z.string().regex(/^[1-9][0-9]{0,18}$/, 'must be the nextCursor of the previous page').transform(BigInt).refine((v) => v <= 9223372036854775807n, 'must be the nextCursor of the previous page').optional(),
  limit: limitSchema,
  includeArchived: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
});
export type ListFlagsInput = z.infer<typeof listFlagsSchema>;
