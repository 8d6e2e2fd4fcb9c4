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

/**
 * The largest conversation evaluated at once. A 1:1 chat or call has 2 participants; 32 is
 * the size of the largest group calls messengers run end to end encrypted. Larger groups use
 * per-group sender keys and are a rollout of their own, not a question about every member.
 */
export const MAX_CONVERSATION_PARTICIPANTS = 32;

const participantSchema = z.union([
  z.string().min(1).max(200),
  z
    .object({
      targetingKey: z.string().min(1).max(200),
      /** every device of this participant can do E2EE (the messaging server knows) */
      e2eeCapable: z.boolean().optional(),
    })
    .loose(),
]);

/** `context.conversation`: the conversation and its participants, each a user id or a context of its own. */
export const conversationSchema = z.object({
  id: z.string().min(1).max(200),
  participants: z
    .array(participantSchema)
    .min(1)
    .max(MAX_CONVERSATION_PARTICIPANTS, { message: `at most ${MAX_CONVERSATION_PARTICIPANTS} participants (the largest group call); evaluate larger groups per member` }),
});
export type ConversationInput = z.infer<typeof conversationSchema>;
