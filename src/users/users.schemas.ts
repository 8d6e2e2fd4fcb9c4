import { z } from 'zod';
import { PLATFORMS } from './users.types';

const INT64_MAX = 9223372036854775807n;

/**
 * A user id: decimal digits (string) or a JSON number that is still exact. Numbers above
 * 2^53 have already lost digits when JSON was parsed, so they are refused, not rounded.
 */
export const userIdSchema = z
  .union([
    z.string().trim().regex(/^[1-9][0-9]{0,18}$/, 'must be a positive 64-bit integer id'),
    z.number().int('must be an integer').positive('must be positive').max(Number.MAX_SAFE_INTEGER, 'ids above 2^53 must be written as strings'),
  ])
  .transform((v) => BigInt(v))
  .refine((v) => v <= INT64_MAX, 'must be a positive 64-bit integer id');

export const countrySchema = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE')
  .transform((s) => s.toUpperCase());

export const platformSchema = z.enum(PLATFORMS);

export const appVersionSchema = z
  .string()
  .max(32)
  .regex(/^[0-9]{1,5}(\.[0-9]{1,5}){0,3}([-+][0-9A-Za-z.-]{1,20})?$/, 'must be a version such as 6.4.1');

export const userAttributesSchema = z.record(z.string().max(100), z.unknown());

const ID_DIGITS = /^[1-9][0-9]{0,18}$/;

function isImportId(v: unknown): boolean {
  if (typeof v === 'string') return ID_DIGITS.test(v) && (v.length < 19 || BigInt(v) <= INT64_MAX);
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One row of an import file (NDJSON object, or a CSV line mapped to the same names). Shaped
 * for speed, since it runs for every line of files of millions: no unions or transforms
 * (each costs about 1 µs per row); `toImportRow` converts the checked values.
 */
export const importRowSchema = z.strictObject({
  id: z.custom<string | number>(isImportId, 'must be a positive 64-bit integer id; ids above 2^53 must be written as strings'),
  country: z.string().regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as DE'),
  platform: platformSchema,
  appVersion: appVersionSchema,
  e2eeCapable: z.boolean(),
  attributes: z.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object').optional(),
});
export type ImportRowInput = z.infer<typeof importRowSchema>;

export const userIdParamSchema = z.strictObject({ id: userIdSchema });

export const patchUserSchema = z
  .strictObject({
    country: countrySchema.optional(),
    platform: platformSchema.optional(),
    appVersion: appVersionSchema.optional(),
    e2eeCapable: z.boolean().optional(),
    /** replaces the whole attributes object */
    attributes: userAttributesSchema.optional(),
    reason: z.string().trim().min(3).max(2000).optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'reason'), 'give at least one attribute to change');
export type PatchUserInput = z.infer<typeof patchUserSchema>;

export const seedUsersSchema = z.strictObject({
  count: z.number().int().min(1).max(50_000_000),
  /** makes the generated attributes reproducible; the same seed and id give the same user */
  seed: z.number().int().min(0).max(2_147_483_647).default(1),
});
export type SeedUsersInput = z.infer<typeof seedUsersSchema>;
