import { z } from 'zod';
import { bigintIdSchema, keySchema, reasonSchema } from '../../core/validation/common.schemas';

export const optInSchema = z.strictObject({ userId: bigintIdSchema }).meta({ id: 'OptInRequest' });
export type OptInInput = z.infer<typeof optInSchema>;

export const retryFailedSchema = z.strictObject({ reason: reasonSchema.optional() });
export type RetryFailedInput = z.infer<typeof retryFailedSchema>;

export const RECOVERY_METHODS = ['pin', 'recovery_code', 'cloud_backup', 'device_keychain'] as const;

export const recoverySchema = z.strictObject({
  method: z.enum(RECOVERY_METHODS),
  /** a campaign id or key; all campaigns where the user is enabled when absent */
  campaign: z.union([keySchema, bigintIdSchema.transform(String)]).optional(),
}).meta({ id: 'RecoveryRequest' });
export type RecoveryInput = z.infer<typeof recoverySchema>;

export const userIdParamSchema = z.strictObject({ id: bigintIdSchema });
export type UserIdParamInput = z.infer<typeof userIdParamSchema>;
