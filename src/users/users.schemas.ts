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

/** Why `v` is not an import id, in the words of the mistake actually made (runs for rejected rows only). */
export function importIdProblem(v: unknown): string {
  if (v === undefined || v === '') return 'is missing';
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return `must be a whole number, not ${v}`;
    if (v <= 0) return `must be positive, not ${v}`;
    return 'is above 2^53, where JSON numbers lose digits: write ids this large as strings';
  }
  if (typeof v !== 'string') return `must be a number or a string of digits, not ${v === null ? 'null' : typeof v}`;
  const t = v.trim();
  if (/^-[0-9]+$/.test(t)) return `must be positive, not ${t}`;
  if (/^0+$/.test(t)) return 'must be positive, not 0';
  if (/^0[0-9]+$/.test(t)) return `must be written without leading zeros, not ${t}`;
  if (!/^[0-9]+$/.test(t)) return `must be a positive integer written in digits, not ${JSON.stringify(v.slice(0, 40))}`;
  if (t !== v) return 'must not have spaces around it';
  return 'is above 9223372036854775807, the largest 64-bit id';
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
  id: z.custom<string | number>(isImportId, { error: (issue) => importIdProblem(issue.input) }),
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
  .refine((b) => Object.keys(b).some((k) => k !== 'reason'), 'give at least one attribute to change')
  .meta({ id: 'PatchUserRequest' });
export type PatchUserInput = z.infer<typeof patchUserSchema>;

export const seedUsersSchema = z.strictObject({
  count: z.number().int().min(1).max(50_000_000),
  /** makes the generated attributes reproducible; the same seed and id give the same user */
  seed: z.number().int().min(0).max(2_147_483_647).default(1),
}).meta({ id: 'SeedUsersRequest' });
export type SeedUsersInput = z.infer<typeof seedUsersSchema>;
