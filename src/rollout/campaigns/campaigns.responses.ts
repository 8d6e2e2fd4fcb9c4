import { z } from 'zod';
import { dateTime, idString, nullableDateTime, pageOf } from '../../core/http/openapi/response-schemas';
import { CAMPAIGN_STATUSES } from './campaigns.types';
import { COMPARISONS, GUARDRAIL_ACTIONS, GUARDRAIL_METRICS, QUERY_ERROR_OUTCOMES } from './guardrails';

const stateCounts = z.record(z.string(), z.number().int()).meta({ description: 'users per migration state' });

export const populationFilterView = z.object({
  countries: z.array(z.string()).optional(),
  platforms: z.array(z.string()).optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export const rampStepView = z
  .object({ ppm: z.number().int(), holdMinutes: z.number(), requiresApproval: z.boolean(), pointOfNoReturn: z.boolean(), minCapablePercent: z.number().optional() })
  .meta({ id: 'RampStep' });

export const guardrailRuleView = z
  .object({
    metric: z.enum(GUARDRAIL_METRICS),
    threshold: z.number(),
    windowSeconds: z.number().int(),
    action: z.enum(GUARDRAIL_ACTIONS),
    minSamples: z.number().int(),
    query: z.string().optional().meta({ description: 'prometheus rules: the PromQL expression' }),
    comparison: z.enum(COMPARISONS).optional(),
    onQueryError: z.enum(QUERY_ERROR_OUTCOMES).optional(),
  })
  .meta({ id: 'GuardrailRule' });

const guardrailState = z.record(z.string(), z.unknown()).meta({
  description: "the ramp controller's last guardrail evaluation: verdict, trips, measured values (external rules with status ok, no_data or error), failures (external reads that failed), evaluatedAt",
});

export const campaignSchema = z
  .object({
    id: idString,
    key: z.string(),
    name: z.string(),
    description: z.string(),
    flagId: idString,
    status: z.enum(CAMPAIGN_STATUSES),
    populationFilter: populationFilterView,
    pacing: z.object({ batchSize: z.number().int(), maxUsersPerSecond: z.number().int(), concurrency: z.number().int(), maxAttempts: z.number().int(), backlogBatches: z.number().int() }),
    rampPlan: z.array(rampStepView),
    guardrails: z.array(guardrailRuleView),
    currentStep: z.number().int().meta({ description: '0-based index into rampPlan; the CLI and dashboard show it 1-based' }),
    stepEnteredAt: nullableDateTime.optional(),
    approvedStep: z.number().int().optional(),
    admittedPpm: z.number().int(),
    plannedPpm: z.number().int(),
    paceUsersPerSecond: z.number(),
    guardrailState,
    materializeCursor: idString.nullable(),
    materializedAt: nullableDateTime,
    populationSize: idString.meta({ description: 'users in the population, as decimal digits' }),
    startedAt: nullableDateTime,
    completedAt: nullableDateTime,
    haltedAt: nullableDateTime,
    haltReason: z.string().nullable(),
    haltToLastCommitMs: z.number().nullable(),
    lastEnabledAt: nullableDateTime,
    autoComplete: z.boolean().meta({ description: 'completes by itself once the last step (100%) has nothing left to process' }),
    version: z.number().int().meta({ description: 'also in the ETag header; send it back as If-Match on the next write' }),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Campaign' });

export const campaignPageSchema = pageOf(campaignSchema).meta({ id: 'CampaignPage' });

export const rampSchema = z
  .object({
    campaignId: idString,
    key: z.string(),
    status: z.enum(CAMPAIGN_STATUSES),
    version: z.number().int(),
    steps: z.array(rampStepView),
    currentStep: z.number().int(),
    currentPpm: z.number().int(),
    stepEnteredAt: nullableDateTime,
    holdRemainingSeconds: z.number().int().nullable(),
    approvedStep: z.number().int(),
    next: z.object({ step: z.number().int(), ppm: z.number().int(), requiresApproval: z.boolean(), awaitingApproval: z.boolean() }).nullable(),
    admittedPpm: z.number().int(),
    plannedPpm: z.number().int(),
    guardrails: z.array(guardrailRuleView),
    guardrailState,
    paceUsersPerSecond: z.number(),
  })
  .meta({ id: 'Ramp' });

const holdBase = z.object({
  id: idString,
  campaignId: idString,
  filter: populationFilterView,
  reason: z.string(),
  createdBy: z.string(),
  createdAt: dateTime,
  releasedAt: nullableDateTime,
  heldCount: idString.meta({ description: 'users the hold holds now' }),
  appliedAt: nullableDateTime,
});
export const holdSchema = holdBase.meta({ id: 'Hold' });
export const placedHoldSchema = holdBase.extend({ fromStates: stateCounts }).meta({ id: 'PlacedHold', description: 'the hold, and how many users it took from each state' });
export const releasedHoldSchema = holdBase.extend({ toStates: stateCounts }).meta({ id: 'ReleasedHold', description: 'the hold, and how many users went to each state' });
export const holdListSchema = z.object({ items: z.array(holdSchema) }).meta({ id: 'HoldList' });

const rangeEstimate = z.object({ users: z.number(), eligible: z.number(), ineligible: z.number(), exact: z.boolean().meta({ description: 'false when partial histogram bins were prorated' }) });

const floorStatusView = z
  .object({
    step: z.number().int(),
    minCapablePercent: z.number(),
    users: z.number().int(),
    capable: z.number().int(),
    capablePercent: z.number().nullable(),
    met: z.boolean(),
    usersNeeded: z.number().int(),
    forecast: z.object({ capablePerSecond: z.number().nullable(), etaSeconds: z.number().nullable(), etaAt: nullableDateTime, model: z.string() }),
  })
  .meta({ id: 'CapabilityFloor' });

export const forecastSchema = z
  .object({
    campaignId: idString,
    status: z.enum(CAMPAIGN_STATUSES),
    currentStep: z.number().int(),
    targetStep: z.number().int().nullable(),
    fromPpm: z.number().int(),
    toPpm: z.number().int(),
    newlyAdmitted: rangeEstimate,
    rate: z.object({ usersPerSecond: z.number().nullable(), source: z.enum(['ramp_throughput', 'pace', 'max_pace']).nullable() }),
    etaSeconds: z.number().int().nullable(),
    etaAt: nullableDateTime,
    etaReason: z.enum(['draft', 'paused', 'halted', 'completed', 'no_pace']).nullable().meta({ description: 'why there is no ETA' }),
    capabilityFloor: floorStatusView.nullable(),
  })
  .meta({ id: 'Forecast' });

export const userExplanationSchema = z
  .object({
    campaignId: idString,
    campaign: z.string(),
    userId: idString,
    bucket: z.number().int(),
    state: z.string().nullable(),
    admittedByCurrentStep: z.boolean(),
    reason: z.string().meta({ description: 'a stable code: enabled, held, in_flight, failed, ineligible, waiting_for_batch, campaign_not_running, flag_killed, above_ceiling, not_planned_yet, not_materialised' }),
    why: z.string(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    enrolledVia: z.string().nullable(),
    enrolledBy: z.string().nullable(),
    enrolledStep: z.number().int().nullable(),
    flagVersion: z.number().int().nullable(),
    admittedAt: nullableDateTime,
    enabledAt: nullableDateTime,
    updatedAt: nullableDateTime,
    recoveryState: z.string().nullable(),
    recoveryMethod: z.string().nullable(),
    hold: z.object({ id: idString, reason: z.string() }).nullable(),
    admission: z.object({
      campaignStatus: z.enum(CAMPAIGN_STATUSES),
      currentStep: z.number().int(),
      currentStepPpm: z.number().int(),
      flag: z.object({ key: z.string(), version: z.number().int(), rolloutPpm: z.number().int(), killed: z.boolean() }),
      plannedPpm: z.number().int(),
      firstStepAdmitting: z.number().int().nullable(),
    }),
    user: z.object({ country: z.string(), platform: z.string(), appVersion: z.string(), e2eeCapable: z.boolean() }).nullable(),
  })
  .meta({ id: 'UserExplanation', description: 'why this user is (not) encrypted' });

export const campaignExplanationSchema = z
  .object({
    campaignId: idString,
    campaign: z.string(),
    status: z.enum(CAMPAIGN_STATUSES),
    currentStep: z.number().int(),
    nextStep: z.number().int().nullable(),
    waiting: z.object({ reason: z.string(), detail: z.string() }).nullable(),
    heldByFloor: floorStatusView.nullable(),
    why: z.string(),
    floors: z.array(floorStatusView),
    completion: z.object({ auto: z.boolean(), lastStep: z.number().int(), rule: z.string() }),
  })
  .meta({ id: 'CampaignExplanation' });
