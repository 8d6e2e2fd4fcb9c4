import { z } from 'zod';
import { idString, nullableDateTime } from '../../core/http/openapi/response-schemas';
import { RECOVERY_METHODS } from './migration.schemas';

export const userMigrationSchema = z
  .object({
    campaignId: idString,
    userId: idString,
    bucket: z.number().int().meta({ description: 'the user\'s rollout position, 0..999999 ppm' }),
    state: z.string().meta({ description: 'legacy, ineligible, eligible, enrolling, enabled, failed or held' }),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    enrolledVia: z.string().nullable(),
    recoveryState: z.string(),
    recoveryMethod: z.string().nullable(),
    admittedAt: nullableDateTime,
    enabledAt: nullableDateTime,
  })
  .meta({ id: 'UserMigration' });

export const retryAcceptedSchema = z.object({ campaignId: idString, accepted: z.literal(true) }).meta({ id: 'RetryAccepted' });

export const recoveryResultSchema = z
  .object({
    userId: idString,
    campaigns: z.array(z.object({ campaignId: idString, recoveryState: z.literal('set'), recoveryMethod: z.enum(RECOVERY_METHODS), changed: z.boolean() })),
  })
  .meta({ id: 'RecoveryResult' });
