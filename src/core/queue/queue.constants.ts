/** Queue names. One queue per kind of work, so that a flood of batches never delays a tick. */
export const QUEUES = {
  /** batch-migrate jobs: one bounded batch of users each */
  migration: 'migration',
  /** planner, materialiser, ramp ticks, reaper, reconciler, sampler: short control jobs */
  control: 'control',
  /** progress-sample: the progress sampler and its retention (its own queue, its own processor) */
  progress: 'progress',
  /** ramp-tick: the ramp controller (steps, guardrails, pace), its own queue and processor */
  ramp: 'ramp',
  /** webhook-dispatch and webhook-deliver: notifications out, so that a slow receiver delays nothing else */
  webhooks: 'webhooks',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QUEUES);

/** What a processor reports for a job it handled. */
export type JobStatus = 'done' | 'skipped' | 'partial';
