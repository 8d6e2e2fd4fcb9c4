import { z } from 'zod';
import { EVENT_TYPES } from '../core/audit/published-events';
import { bigintIdSchema, limitSchema, reasonSchema } from '../core/validation/common.schemas';

const urlSchema = z
  .string()
  .trim()
  .max(2000)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http or https URL' });

const eventsSchema = z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length).transform((e) => [...new Set(e)]);

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;

export const createWebhookSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  url: urlSchema,
  events: eventsSchema,
  format: z.enum(WEBHOOK_FORMATS).default('json'),
  /** the signing key; generated when absent and returned once */
  secret: z.string().min(16).max(200).optional(),
  enabled: z.boolean().default(true),
});
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;

export const patchWebhookSchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  url: urlSchema.optional(),
  events: eventsSchema.optional(),
  format: z.enum(WEBHOOK_FORMATS).optional(),
  secret: z.string().min(16).max(200).optional(),
  enabled: z.boolean().optional(),
  reason: reasonSchema.optional(),
});
export type PatchWebhookInput = z.infer<typeof patchWebhookSchema>;

export const deleteWebhookSchema = z.strictObject({ reason: reasonSchema.optional() });
export type DeleteWebhookInput = z.infer<typeof deleteWebhookSchema>;

export const webhookIdSchema = z.strictObject({ id: bigintIdSchema });
export type WebhookIdInput = z.infer<typeof webhookIdSchema>;

export const listDeliveriesSchema = z.strictObject({ limit: limitSchema });
export type ListDeliveriesInput = z.infer<typeof listDeliveriesSchema>;
