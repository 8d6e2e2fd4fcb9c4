import { z } from 'zod';
import { limitSchema, idCursorSchema } from '../validation/common.schemas';

export const listAuditSchema = z.strictObject({
  entityType: z.string().min(1).max(64).optional(),
  entityId: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(128).optional(),
  actorId: z.string().min(1).max(64).optional(),
  since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  until: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  cursor: idCursorSchema.optional(),
  limit: limitSchema,
});
export type ListAuditInput = z.infer<typeof listAuditSchema>;
