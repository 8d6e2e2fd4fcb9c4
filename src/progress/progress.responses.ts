import { z } from 'zod';
import { dateTime, idString, nullableDateTime } from '../core/http/openapi/response-schemas';
import { CAMPAIGN_STATUSES } from '../rollout/campaigns/campaigns.types';
import { STATES } from './progress.types';

const counts = z
  .object(Object.fromEntries([...STATES, 'total'].map((s) => [s, z.number().int()])) as Record<(typeof STATES)[number] | 'total', z.ZodNumber>)
  .meta({ id: 'StateCounts', description: 'users per migration state, and their total' });

const campaignHead = z.object({ id: idString, key: z.string(), name: z.string(), status: z.enum(CAMPAIGN_STATUSES), version: z.number().int() });

const rampStep = z.object({ ppm: z.number().int(), holdMinutes: z.number(), requiresApproval: z.boolean(), pointOfNoReturn: z.boolean(), minCapablePercent: z.number().optional() });

export const progressSchema = z
  .object({
    campaign: campaignHead.extend({ populationSize: z.number().int(), startedAt: nullableDateTime, completedAt: nullableDateTime }),
    at: dateTime,
    counts,
    enabledShare: z.number().min(0).max(1),
    admission: z.object({ admittedPpm: z.number().int(), plannedPpm: z.number().int(), admittedUsers: z.number().int(), admittedCapableUsers: z.number().int() }),
    throughput: z.object({ perSecond1m: z.number().nullable(), perSecond5m: z.number().nullable() }),
    eta: z.object({
      remainingUsers: z.number().int(),
      toProcess: z.number().int(),
      seconds: z.number().nullable(),
      at: nullableDateTime,
      reason: z.enum(['draft', 'paused', 'halted', 'no_pace']).nullable().meta({ description: 'why there is no ETA' }),
      rate: z.object({ usersPerSecond: z.number(), source: z.enum(['ramp_throughput', 'pace', 'max_pace']) }).nullable(),
      approvalsAhead: z.array(z.number().int()),
      model: z.string(),
    }),
    conversations: z
      .object({
        model: z.literal('independent_participants'),
        description: z.string(),
        enabledShare: z.number(),
        oneToOne: z.number(),
        groups: z.array(z.object({ participants: z.number().int(), share: z.number() })),
      })
      .meta({ description: 'estimated share of conversations whose participants are all enabled, under the stated model' }),
    failures: z.object({ ratio: z.number(), recentRatio5m: z.number().nullable(), recentBackendErrors5m: z.number().int() }),
    backlog: z.object({ batches: z.number().int(), queued: z.number().int(), running: z.number().int(), oldestQueuedAgeSeconds: z.number().nullable() }),
    recovery: z.object({
      prompted: z.number().int(),
      pin: z.number().int(),
      recoveryCode: z.number().int(),
      cloudBackup: z.number().int(),
      deviceKeychain: z.number().int(),
      adoption: z.number(),
      byMethod: z.record(z.string(), z.number().int()),
    }),
    ramp: z.object({
      steps: z.array(rampStep),
      currentStep: z.number().int(),
      approvedStep: z.number().int(),
      stepEnteredAt: nullableDateTime,
      holdRemainingSeconds: z.number().nullable(),
      awaitingApproval: z.boolean(),
    }),
    guardrails: z.object({ rules: z.unknown(), state: z.unknown() }),
    pace: z.object({ usersPerSecond: z.number(), maxUsersPerSecond: z.number().nullable() }),
    halt: z.object({ haltedAt: nullableDateTime, reason: z.string().nullable(), haltToLastCommitMs: z.number().nullable() }),
  })
  .meta({ id: 'Progress', description: 'a campaign\'s progress; costs the same at any population size' });

export const progressHistorySchema = z
  .object({
    campaign: z.object({ id: idString, key: z.string() }),
    resolution: z.enum(['raw', 'minute', 'hour', 'mixed']),
    since: dateTime,
    points: z.array(
      z.object({
        at: dateTime,
        resolution: z.enum(['raw', 'minute', 'hour']),
        counts,
        throughputPerSecond: z.number(),
        paceUsersPerSecond: z.number(),
        admittedPpm: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'ProgressHistory' });

export const progressOverviewSchema = z
  .object({
    items: z.array(
      campaignHead.extend({
        currentStep: z.number().int(),
        admittedPpm: z.number().int(),
        counts,
        enabledShare: z.number(),
        updatedAt: dateTime,
      }),
    ),
    nextCursor: idString.nullable(),
  })
  .meta({ id: 'ProgressOverview' });

export const progressStreamSchema = z
  .string()
  .meta({ description: 'server-sent events: `event: progress` with a Progress document as `data`, every second while the campaign runs; `: heartbeat` comments in between' });
