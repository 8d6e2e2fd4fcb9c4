import { z } from 'zod';
import { bigintIdSchema } from '../validation/common.schemas';
import { QUEUES, type QueueName } from './queue.constants';

/**
 * Every job Cutover runs: its queue, its name and the schema of its payload. A processor
 * declares which of these it runs (`@OnJob`, job-processor.ts); the worker refuses to start
 * unless each job here has exactly one processor on its queue (checkJobRegistry), and the
 * shutdown drain and the heartbeat take the processors from the same check. Job ids are
 * deterministic and never contain ':' (BullMQ ignores a second add with the same id).
 */

/** At most this many users per `users-reassess` job. */
export const USERS_REASSESS_MAX_USERS = 10_000;

export const batchJobSchema = z.object({ campaignId: bigintIdSchema, batchId: bigintIdSchema });
export type BatchJob = z.infer<typeof batchJobSchema>;
export const campaignJobSchema = z.object({ campaignId: bigintIdSchema });
export const retryFailedJobSchema = z.object({ campaignId: bigintIdSchema, fromPpm: z.number().int().min(0).max(1_000_000) });
export const usersReassessJobSchema = z.object({ userIds: z.array(bigintIdSchema).min(1).max(USERS_REASSESS_MAX_USERS) });
/** The backfill's name is checked against the known backfills by the backfill service. */
export const dataBackfillJobPayload = z.object({ name: z.string().min(1) });
export const deliverJobSchema = z.object({ deliveryId: bigintIdSchema });
/** Scheduled jobs carry nothing. */
const noPayload = z.object({});

export interface JobDefinition {
  readonly queue: QueueName;
  readonly name: string;
  readonly payload: z.ZodType;
}

function job<const N extends string, S extends z.ZodType>(queue: QueueName, name: N, payload: S) {
  return { queue, name, payload };
}

export const JOB_REGISTRY = {
  /** one bounded batch of users */
  batchMigrate: job(QUEUES.migration, 'batch-migrate', batchJobSchema),
  /** materialise the campaign's user_migrations rows, a few chunks per job */
  materialize: job(QUEUES.control, 'campaign-materialize', campaignJobSchema),
  /** turn admission into batches for one campaign */
  plan: job(QUEUES.control, 'campaign-plan', campaignJobSchema),
  /** scheduled: plan every running campaign */
  planTick: job(QUEUES.control, 'migration-plan-tick', noPayload),
  /** scheduled: return expired leases to eligible */
  reap: job(QUEUES.control, 'migration-reap', noPayload),
  /** scheduled: compare counters with table truth, repair drift */
  reconcile: job(QUEUES.control, 'migration-reconcile', noPayload),
  /** requeue a campaign's failed users, bucket chunk by chunk */
  retryFailed: job(QUEUES.control, 'campaign-retry-failed', retryFailedJobSchema),
  /** produced by the users feature after an attribute change or an import */
  usersReassess: job(QUEUES.control, 'users-reassess', usersReassessJobSchema),
  /** one chunk of a data backfill, then the next (src/rollout/migration/backfill.service.ts) */
  dataBackfill: job(QUEUES.control, 'data-backfill', dataBackfillJobPayload),
  /** scheduled: restart a data backfill whose chain of jobs broke */
  dataBackfillTick: job(QUEUES.control, 'data-backfill-tick', noPayload),
  /** scheduled: one tick of every running or paused campaign */
  rampTick: job(QUEUES.ramp, 'ramp-tick', noPayload),
  /** one tick of one campaign (after an operator action, or from tests) */
  rampTickCampaign: job(QUEUES.ramp, 'ramp-tick-campaign', campaignJobSchema),
  /** scheduled: the progress sampler and its retention */
  progressSample: job(QUEUES.progress, 'progress-sample', noPayload),
  /** scheduled: turn new audit events into webhook deliveries */
  webhookDispatch: job(QUEUES.webhooks, 'webhook-dispatch', noPayload),
  /** one delivery to one receiver */
  webhookDeliver: job(QUEUES.webhooks, 'webhook-deliver', deliverJobSchema),
} as const satisfies Record<string, JobDefinition>;

export type JobKey = keyof typeof JOB_REGISTRY;
export type JobName = (typeof JOB_REGISTRY)[JobKey]['name'];
export type JobPayload<K extends JobKey> = z.infer<(typeof JOB_REGISTRY)[K]['payload']>;

/** The job names, by key: `JOBS.plan` is `'campaign-plan'`. */
export const JOBS = Object.fromEntries(Object.entries(JOB_REGISTRY).map(([k, d]) => [k, d.name])) as { readonly [K in JobKey]: (typeof JOB_REGISTRY)[K]['name'] };

export const USERS_REASSESS_JOB = JOBS.usersReassess;
