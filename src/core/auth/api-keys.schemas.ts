import { z } from 'zod';
import { idCursorSchema, limitSchema, reasonSchema } from '../validation/common.schemas';
import { ROLES } from './auth.types';

export const createApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: z.enum(ROLES),
}).meta({ id: 'CreateApiKeyRequest' });
export type CreateApiKeyInput = z.infer<typeof createApiKeySchema>;

export const listApiKeysSchema = z.strictObject({
  cursor: idCursorSchema.optional(),
  limit: limitSchema,
  includeRevoked: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
});
export type ListApiKeysInput = z.infer<typeof listApiKeysSchema>;

/** `force` is needed to revoke the key that makes the request (it ends the caller's own access). */
export const revokeApiKeySchema = z.strictObject({ reason: reasonSchema.optional(), force: z.boolean().default(false) }).meta({ id: 'RevokeApiKeyRequest' });
export type RevokeApiKeyInput = z.infer<typeof revokeApiKeySchema>;
