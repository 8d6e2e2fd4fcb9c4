import { z } from 'zod';
import { bigintIdSchema, reasonSchema } from '../../core/validation/common.schemas';
import { COMPARISONS, GUARDRAIL_ACTIONS, GUARDRAIL_METRICS, QUERY_ERROR_OUTCOMES } from './guardrails';
import { populationFilterSchema } from './campaigns.schemas';

const PPM = 1_000_000;

/** A step as an operator writes it: ppm or percent, holdMinutes or holdSeconds. */
export const rampStepInputSchema = z
  .strictObject({
    ppm: z.number().int().min(1).max(PPM).optional(),
    percent: z.number().gt(0).max(100).optional(),
    holdMinutes: z.number().min(0).max(60 * 24 * 90).optional(),
    holdSeconds: z.number().min(0).max(3600 * 24 * 90).optional(),
    requiresApproval: z.boolean().default(false),
    pointOfNoReturn: z.boolean().default(false),
    minCapablePercent: z.number().gt(0).max(100).optional(),
  })
  .refine((s) => (s.ppm === undefined) !== (s.percent === undefined), { message: 'give exactly one of ppm or percent', path: ['ppm'] })
  .refine((s) => !(s.holdMinutes !== undefined && s.holdSeconds !== undefined), { message: 'give holdMinutes or holdSeconds, not both', path: ['holdMinutes'] })
  .transform((s) => ({
    ppm: s.ppm ?? Math.max(1, Math.round(s.percent! * 10_000)),
    holdMinutes: s.holdMinutes ?? (s.holdSeconds !== undefined ? s.holdSeconds / 60 : 0),
    requiresApproval: s.requiresApproval,
    pointOfNoReturn: s.pointOfNoReturn,
    ...(s.minCapablePercent !== undefined && { minCapablePercent: s.minCapablePercent }),
  }));

export const rampStepsSchema = z
  .array(rampStepInputSchema)
  .min(1)
  .max(100)
  .superRefine((steps, ctx) => {
    for (let i = 1; i < steps.length; i++) {
      if (steps[i].ppm <= steps[i - 1].ppm) ctx.addIssue({ code: 'custom', message: 'steps must strictly increase in ppm', path: [i, 'ppm'] });
    }
  });

export const guardrailRuleSchema = z
  .strictObject({
    metric: z.enum(GUARDRAIL_METRICS),
    threshold: z.number().min(-1e12).max(1e12),
    windowSeconds: z.number().int().min(10).max(86_400).default(300),
    action: z.enum(GUARDRAIL_ACTIONS),
    minSamples: z.number().int().min(0).max(1e9).default(50),
    query: z.string().trim().min(1).max(4096).optional(),
    comparison: z.enum(COMPARISONS).optional(),
    onQueryError: z.enum(QUERY_ERROR_OUTCOMES).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.metric === 'prometheus') {
      if (r.query === undefined) ctx.addIssue({ code: 'custom', message: 'a prometheus guardrail needs a PromQL query', path: ['query'] });
      return;
    }
    if (typeof r.threshold === 'number' && r.threshold < 0) ctx.addIssue({ code: 'custom', message: 'must be at least 0 for a built-in metric', path: ['threshold'] });
    for (const f of ['query', 'comparison', 'onQueryError'] as const) {
      if (r[f] !== undefined) ctx.addIssue({ code: 'custom', message: `only a prometheus guardrail takes ${f}`, path: [f] });
    }
    // run beside the field checks (an invalid action must not hide a negative threshold)
  }, { when: (p) => typeof p.value === 'object' && p.value !== null })
  .transform((r) => (r.metric === 'prometheus' ? { ...r, comparison: r.comparison ?? 'above', onQueryError: r.onQueryError ?? 'hold' } : r));

export const guardrailRulesSchema = z.array(guardrailRuleSchema).max(50);

export const setRampSchema = z.strictObject({
  steps: rampStepsSchema,
  guardrails: guardrailRulesSchema.optional(),
  reason: reasonSchema.optional(),
}).meta({ id: 'SetRampRequest' });
export type SetRampInput = z.infer<typeof setRampSchema>;

export const setGuardrailsSchema = z.strictObject({ rules: guardrailRulesSchema, reason: reasonSchema.optional() }).meta({ id: 'SetGuardrailsRequest' });
export type SetGuardrailsInput = z.infer<typeof setGuardrailsSchema>;

export const rampActionSchema = z.strictObject({ reason: reasonSchema.optional() });
export type RampActionInput = z.infer<typeof rampActionSchema>;

export const setStepSchema = z.strictObject({ step: z.number().int().min(0).max(99), reason: reasonSchema.optional() }).meta({ id: 'SetStepRequest' });
export type SetStepInput = z.infer<typeof setStepSchema>;

export const forecastQuerySchema = z
  .strictObject({
    ppm: z.coerce.number().int().min(0).max(PPM).optional(),
    percent: z.coerce.number().min(0).max(100).optional(),
  })
  .refine((q) => !(q.ppm !== undefined && q.percent !== undefined), { message: 'give ppm or percent, not both', path: ['ppm'] });
export type ForecastQueryInput = z.infer<typeof forecastQuerySchema>;

export const campaignUserParamSchema = z.strictObject({
  id: z.string().min(1).max(128).regex(/^[a-z0-9][a-z0-9._-]*$/, 'a campaign id or key'),
  userId: bigintIdSchema,
});
export type CampaignUserParamInput = z.infer<typeof campaignUserParamSchema>;

export const createHoldSchema = z.strictObject({
  filter: populationFilterSchema.refine((f) => Object.keys(f).length > 0, { message: 'a hold needs at least one of countries, platforms, attributes' }),
  reason: reasonSchema,
}).meta({ id: 'CreateHoldRequest' });
export type CreateHoldInput = z.infer<typeof createHoldSchema>;

export const holdParamSchema = z.strictObject({
  id: z.string().min(1).max(128).regex(/^[a-z0-9][a-z0-9._-]*$/, 'a campaign id or key'),
  holdId: bigintIdSchema,
});
export type HoldParamInput = z.infer<typeof holdParamSchema>;

export const releaseHoldSchema = z.strictObject({ reason: reasonSchema.optional() });
export type ReleaseHoldInput = z.infer<typeof releaseHoldSchema>;

export const listHoldsSchema = z.strictObject({ includeReleased: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') });
export type ListHoldsInput = z.infer<typeof listHoldsSchema>;
