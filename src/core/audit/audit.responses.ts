import { z } from 'zod';
import { dateTime, idString, pageOf } from '../http/openapi/response-schemas';

export const auditEventSchema = z
  .object({
    id: idString,
    at: dateTime,
    actor: z.object({ id: z.string(), name: z.string(), role: z.string() }),
    action: z.string().meta({ example: 'campaign.halted' }),
    entityType: z.string(),
    entityId: z.string(),
    before: z.unknown().meta({ description: 'the entity before the change (null when created)' }),
    after: z.unknown().meta({ description: 'the entity after the change' }),
    reason: z.string().nullable(),
    requestId: z.string().nullable(),
  })
  .meta({ id: 'AuditEvent' });

export const auditPageSchema = pageOf(auditEventSchema).meta({ id: 'AuditPage' });
