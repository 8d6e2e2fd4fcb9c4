import { z } from 'zod';
import { bigintIdSchema, keySchema, limitSchema, reasonSchema } from '../../core/validation/common.schemas';
import { CAMPAIGN_STATUSES } from './campaigns.types';

export const populationFilterSchema = z.strictObject({
  countries: z.array(z.string().regex(/^[A-Z]{2}$/, 'ISO 3166 alpha-2, upper case')).min(1).max(300).optional(),
  platforms: z.array(z.string().min(1).max(40)).min(1).max(50).optional(),
  attributes: z.record(z.string().min(1).max(100), z.union([z.string().max(200), z.number(), z.boolean()])).optional(),
});

export const pacingSchema = z.strictObject({
  batchSize: z.number().int().min(1).max(50_000).optional(),
  maxUsersPerSecond: z.number().int().min(0).max(10_000_000).optional(),
  concurrency: z.number().int().min(1).max(256).optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
  backlogBatches: z.number().int().min(1).max(10_000).optional(),
});
export type PacingInput = z.infer<typeof pacingSchema>;

export const createCampaignSchema = z
  .strictObject({
    key: keySchema,
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).default(''),
    flag: keySchema.optional(),
    flagId: bigintIdSchema.optional(),
    populationFilter: populationFilterSchema.default({}),
    pacing: pacingSchema.default({}),
    autoComplete: z.boolean().default(true),
  })
  .refine((v) => v.flag !== undefined || v.flagId !== undefined, { message: 'give the admission flag as flag (key) or flagId', path: ['flag'] })
  .meta({ id: 'CreateCampaignRequest' });
export type CreateCampaignInput = z.infer<typeof createCampaignSchema>;

export const patchCampaignSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(5000).optional(),
    populationFilter: populationFilterSchema.optional(),
    pacing: pacingSchema.optional(),
    autoComplete: z.boolean().optional(),
    reason: reasonSchema.optional(),
  })
  .refine((v) => Object.keys(v).some((k) => k !== 'reason'), { message: 'nothing to change' })
  .meta({ id: 'PatchCampaignRequest' });
export type PatchCampaignInput = z.infer<typeof patchCampaignSchema>;

export const listCampaignsSchema = z.strictObject({
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  cursor: bigintIdSchema.optional(),
  limit: limitSchema,
});
export type ListCampaignsInput = z.infer<typeof listCampaignsSchema>;

/** `:id` is the numeric id or the campaign key. */
export const campaignRefSchema = z.strictObject({
  id: z.string().min(1).max(128).regex(/^[a-z0-9][a-z0-9._-]*$/, 'a campaign id or key'),
});
export type CampaignRefInput = z.infer<typeof campaignRefSchema>;

export const actionBodySchema = z.strictObject({ reason: reasonSchema.optional() }).meta({ id: 'ActionRequest' });
export type ActionBodyInput = z.infer<typeof actionBodySchema>;

export const haltBodySchema = z.strictObject({ reason: reasonSchema }).meta({ id: 'HaltRequest' });
export type HaltBodyInput = z.infer<typeof haltBodySchema>;

/** Completion is terminal: it says why. */
export const completeBodySchema = haltBodySchema;
export type CompleteBodyInput = z.infer<typeof completeBodySchema>;
