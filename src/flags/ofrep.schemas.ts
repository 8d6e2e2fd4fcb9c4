import { z } from 'zod';
import { keySchema } from '../core/validation/common.schemas';

/** OFREP request body: `{ context: { targetingKey?, ...attributes } }`; both parts optional. */
export const ofrepRequestSchema = z
  .object({
    context: z
      .record(z.string(), z.unknown())
      .refine((c) => c.targetingKey === undefined || typeof c.targetingKey === 'string', {
        message: 'targetingKey must be a string',
        path: ['targetingKey'],
      })
      .optional(),
  })
  .optional()
  .nullable();

export const ofrepKeySchema = keySchema;
