import { JOBS } from '../../core/queue/job-registry';

/* Ids and options of the jobs that move a campaign's users; their names and payloads: core/queue/job-registry.ts. */

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
