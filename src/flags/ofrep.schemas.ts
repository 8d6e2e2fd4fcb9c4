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

/**
 * Query of a bulk re-fetch triggered by an event-stream message (OFREP's SSE extension):
 * the configuration etag and time the message carried. `flagConfigLastModified` is Unix
 * seconds or an ISO 8601 date-time; both are hints, never HTTP conditional validators.
 */
export const bulkQuerySchema = z
  .object({
    flagConfigEtag: z.string().min(1).max(200).optional(),
    flagConfigLastModified: z
      .union([z.string().regex(/^[0-9]{1,12}$/).transform(Number), z.iso.datetime({ offset: true }).transform((d) => Math.floor(Date.parse(d) / 1000))])
      .optional(),
  })
  .loose();
