import { z } from 'zod';

/** A positive 64-bit id written as decimal digits (JSON cannot carry a bigint). */
export const bigintIdSchema = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .refine((s) => /^[1-9][0-9]{0,18}$/.test(s) && BigInt(s) <= 9223372036854775807n, {
    message: 'must be a positive 64-bit integer id',
  })
  .transform((s) => BigInt(s));

export const idCursorSchema = bigintIdSchema;

export const limitSchema = z.coerce.number().int().min(1).max(500).default(50);

export const reasonSchema = z.string().trim().min(3, 'a reason of at least 3 characters is required').max(2000);

export const idParamSchema = z.strictObject({ id: bigintIdSchema });

/** Slug-like keys for flags and campaigns. */
export const keySchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" and "-", starting with a letter or digit');
