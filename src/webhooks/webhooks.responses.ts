import { z } from 'zod';
import { EVENT_TYPES } from '../core/audit/published-events';
import { dateTime, idString, nullableDateTime } from '../core/http/openapi/response-schemas';
import { WEBHOOK_FORMATS } from './webhooks.schemas';

export const webhookSchema = z
  .object({
    id: idString,
    name: z.string(),
    url: z.string(),
    events: z.array(z.enum(EVENT_TYPES)),
    format: z.enum(WEBHOOK_FORMATS),
    enabled: z.boolean(),
    version: z.number().int().meta({ description: 'also in the ETag header; send it back as If-Match on the next write' }),
    createdAt: dateTime,
    updatedAt: dateTime,
    deletedAt: nullableDateTime,
  })
  .meta({ id: 'Webhook' });

export const createdWebhookSchema = z
  .object({ webhook: webhookSchema, secret: z.string().meta({ description: 'the HMAC-SHA256 signing key; shown only here' }) })
  .meta({ id: 'CreatedWebhook' });

export const webhookListSchema = z.object({ items: z.array(webhookSchema) }).meta({ id: 'WebhookList' });

export const deliveryListSchema = z
  .object({
    items: z.array(
      z.object({
        id: idString,
        subscriptionId: idString,
        eventId: idString,
        eventType: z.string(),
        status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
        attempts: z.number().int(),
        lastStatusCode: z.number().int().nullable(),
        lastError: z.string().nullable(),
        lastAttemptAt: nullableDateTime,
        deliveredAt: nullableDateTime,
        createdAt: dateTime,
      }),
    ),
  })
  .meta({ id: 'WebhookDeliveryList' });
