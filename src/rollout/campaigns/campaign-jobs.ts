import { z } from 'zod';
import { bigintIdSchema } from '../../core/validation/common.schemas';

/**
 * Produced by the users feature (after an attribute change or an import), run by the rollout;
 * the rollout owns the name and the payload's bound because users depends on it, not the reverse.
 */
export const USERS_REASSESS_JOB = 'users-reassess';
/** At most this many users per `users-reassess` job (its schema: usersReassessJobSchema). */
export const USERS_REASSESS_MAX_USERS = 10_000;

/**
 * Names, ids and payloads of the jobs that move a campaign's users. Job ids are
 * deterministic and never contain ':' (BullMQ ignores a second add with the same id).
 */
export const JOBS = {
  /** migration queue: one bounded batch of users */
  batchMigrate: 'batch-migrate',
  /** control queue: materialise the campaign's user_migrations rows, a few chunks per job */
  materialize: 'campaign-materialize',
  /** control queue: turn admission into batches for one campaign */
  plan: 'campaign-plan',
  /** control queue, scheduled: plan every running campaign */
  planTick: 'migration-plan-tick',
  /** control queue, scheduled: return expired leases to eligible */
  reap: 'migration-reap',
  /** control queue, scheduled: compare counters with table truth, repair drift */
  reconcile: 'migration-reconcile',
  /** control queue: requeue a campaign's failed users, bucket chunk by chunk */
  retryFailed: 'campaign-retry-failed',
  /** control queue, produced by the users service after an attribute change */
  usersReassess: USERS_REASSESS_JOB,
  /** control queue: one chunk of a data backfill, then the next (src/rollout/migration/backfill.service.ts) */
  dataBackfill: 'data-backfill',
  /** control queue, scheduled: restart a data backfill whose chain of jobs broke */
  dataBackfillTick: 'data-backfill-tick',
} as const;

export const batchJobSchema = z.object({ campaignId: bigintIdSchema, batchId: bigintIdSchema });
export type BatchJob = z.infer<typeof batchJobSchema>;

export const campaignJobSchema = z.object({ campaignId: bigintIdSchema });

export const retryFailedJobSchema = z.object({ campaignId: bigintIdSchema, fromPpm: z.number().int().min(0).max(1_000_000) });

export const usersReassessJobSchema = z.object({ userIds: z.array(bigintIdSchema).min(1).max(USERS_REASSESS_MAX_USERS) });

/** A batch's job id changes each time it is (re)queued, so that a requeue is never ignored. */
export function batchJobId(campaignId: bigint, batchId: bigint, queuedAtMs: number): string {
  return `${JOBS.batchMigrate}-${campaignId}-${batchId}-${queuedAtMs}`;
}

/**
 * A batch job retries (BullMQ backoff) while some of its users wait for another attempt;
 * the users' own attempt count in PostgreSQL decides when they are `failed`, so the job
 * gets a few attempts more than users do.
 */
export function batchJobSpec(campaignId: bigint, b: { id: bigint; queuedAtMs: number }, retry: { maxAttempts: number; backoffMs: number }) {
  return {
    name: JOBS.batchMigrate,
    data: { campaignId: String(campaignId), batchId: String(b.id) },
    jobId: batchJobId(campaignId, b.id, b.queuedAtMs),
    opts: { attempts: retry.maxAttempts + 3, backoff: { type: 'exponential', delay: retry.backoffMs } },
  };
}

export function planJobSpec(campaignId: bigint, why: string) {
  return {
    name: JOBS.plan,
    data: { campaignId: String(campaignId) },
    jobId: `${JOBS.plan}-${campaignId}-${why}-${Date.now()}`,
    opts: { deduplication: { id: `${JOBS.plan}-${campaignId}` }, attempts: 3, removeOnComplete: true },
  };
}

export function materializeJobSpec(campaignId: bigint, cursor: bigint) {
  return {
    name: JOBS.materialize,
    data: { campaignId: String(campaignId) },
    jobId: `${JOBS.materialize}-${campaignId}-${cursor}`,
  };
}
