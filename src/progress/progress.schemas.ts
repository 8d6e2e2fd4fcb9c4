import { z } from 'zod';
import { bigintIdSchema, keySchema, limitSchema } from '../core/validation/common.schemas';

function parseId(v: string, ctx: z.RefinementCtx): bigint {
  const r = bigintIdSchema.safeParse(v);
  if (r.success) return r.data;
  ctx.addIssue({ code: 'custom', message: 'must be a positive 64-bit integer id' });
  return z.NEVER;
}

/** `:id` is the numeric campaign id or the campaign key. */
export const campaignRefParamSchema = z.strictObject({
  id: z.union([z.string().regex(/^[0-9]+$/).transform((v, ctx) => parseId(v, ctx)), keySchema], {
    error: 'must be a campaign id or a campaign key',
  }),
});
export type CampaignRefParam = z.infer<typeof campaignRefParamSchema>;

export const RESOLUTIONS = ['raw', 'minute', 'hour', 'mixed'] as const;

export const historyQuerySchema = z.strictObject({
  /** mixed (default): raw for the last hour, minutes for the last day, hours before that */
  resolution: z.enum(RESOLUTIONS).default('mixed'),
  /** default: one hour ago */
  since: z.iso.datetime({ offset: true }).transform((s) => new Date(s)).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(2000),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export const overviewQuerySchema = z.strictObject({
  cursor: bigintIdSchema.optional(),
  limit: limitSchema,
});
export type OverviewQuery = z.infer<typeof overviewQuerySchema>;
