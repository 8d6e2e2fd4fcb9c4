import { z } from 'zod';
import { CAMPAIGN_STATUSES } from '../rollout/campaigns/campaigns.types';
import { idString } from '../core/http/openapi/response-schemas';
import { alertmanagerPayloadSchema, plainAlertSchema } from './alerts.schemas';

/**
 * What the route's pipe accepts: either form, or any other object, which `parseAlertBody` then
 * rejects naming the exact field (a union's own error would only say "invalid input").
 */
export const alertBodyDocSchema = z
  .union([alertmanagerPayloadSchema.meta({ id: 'AlertmanagerWebhook' }), plainAlertSchema.meta({ id: 'PlainAlert' }), z.record(z.string(), z.unknown())])
  .meta({ description: 'Alertmanager\'s webhook payload (version "4") or the plain form {campaign, action, reason}' });

export const alertsResultSchema = z
  .object({
    results: z.array(
      z.object({
        campaign: z.string(),
        campaignId: idString.nullable(),
        action: z.enum(['pause', 'halt']),
        alertName: z.string(),
        fingerprint: z.string().nullable(),
        outcome: z.enum(['applied', 'already', 'duplicate', 'not_applicable', 'not_found']),
        status: z.enum(CAMPAIGN_STATUSES).nullable(),
      }),
    ),
    ignored: z.array(z.object({ fingerprint: z.string().nullable(), alertName: z.string(), why: z.string() })),
  })
  .meta({ id: 'AlertsResult' });
