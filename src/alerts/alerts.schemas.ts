import { z } from 'zod';
import { reasonSchema } from '../core/validation/common.schemas';
import { parseOrThrow, ValidationError } from '../core/validation/zod.pipe';

const labelMap = z.record(z.string().max(256), z.string().max(8192));

/** One alert of Alertmanager's webhook payload (version 4). */
const alertmanagerAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(128),
});

/**
 * Alertmanager's webhook body, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
 * Unknown top-level fields are kept out rather than rejected: Alertmanager may add some.
 */
export const alertmanagerPayloadSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().max(8192).optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024).optional(),
  groupLabels: labelMap.optional(),
  commonLabels: labelMap.optional(),
  commonAnnotations: labelMap.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(alertmanagerAlertSchema).max(1000),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

/**
 * The plain form, for any other sender: name the campaign and what to do. `id` makes a
 * repeat of the same alert act once (like Alertmanager's fingerprint and startsAt).
 */
export const plainAlertSchema = z.strictObject({
  campaign: z.string().trim().min(1).max(128),
  action: z.enum(['pause', 'halt']),
  reason: reasonSchema,
  id: z.string().trim().min(1).max(128).optional(),
  labels: labelMap.default({}),
  annotations: labelMap.default({}),
});
export type PlainAlertInput = z.infer<typeof plainAlertSchema>;

export type AlertBody = { kind: 'alertmanager'; payload: AlertmanagerPayload } | { kind: 'plain'; payload: PlainAlertInput };

/** Which form a body is in: Alertmanager's carries `version`, the plain one never does. */
export function parseAlertBody(body: unknown): AlertBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ field: 'body', message: 'must be a JSON object: an Alertmanager webhook payload (version "4") or {campaign, action, reason}' }]);
  }
  return 'version' in body
    ? { kind: 'alertmanager', payload: parseOrThrow(alertmanagerPayloadSchema, body, 'body') }
    : { kind: 'plain', payload: parseOrThrow(plainAlertSchema, body, 'body') };
}
