import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { RedisEpoch } from '../redis/redis-epoch';
import { QUEUES, type QueueName } from './queue.constants';

export interface JobSpec {
  name: string;
  data: object;
  /** deterministic id without ':' (BullMQ ignores a second add with the same id) */
  jobId: string;
  opts?: Omit<JobsOptions, 'jobId'>;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  oldestWaitingAgeMs: number | null;
}

interface Schedule {
  queue: QueueName;
  schedulerId: string;
  everyMs: number;
  job: Omit<JobSpec, 'jobId'>;
}

/**
 * The one service that adds jobs. Features never touch a Queue directly. It remembers the
 * schedules this process upserted: when Redis loses its data they are upserted again and each
 * runs once at once (the planner tick re-adds the jobs of batches PostgreSQL lists as queued).
 */
@Injectable()
export class JobsService {
  private readonly log = new Logger(JobsService.name);
  private readonly queues: Record<QueueName, Queue>;
  private readonly schedules = new Map<string, Schedule>();
  private workers = { count: 1, atMs: 0 };

  constructor(
    @InjectQueue(QUEUES.migration) migration: Queue,
    @InjectQueue(QUEUES.control) control: Queue,
    @InjectQueue(QUEUES.progress) progress: Queue,
    @InjectQueue(QUEUES.ramp) ramp: Queue,
    @InjectQueue(QUEUES.webhooks) webhooks: Queue,
    epoch: RedisEpoch,
  ) {
    this.queues = { migration, control, progress, ramp, webhooks };
    epoch.onLoss(async (e) => void (await this.restoreSchedules(e)));
  }

  /** Upserts every remembered schedule and runs each once now (job ids per epoch: replicas add each once). */
  async restoreSchedules(epoch: string): Promise<number> {
    for (const s of this.schedules.values()) {
      await this.upsert(s);
      await this.add(s.queue, { ...s.job, jobId: `${s.schedulerId}-after-loss-${epoch}` });
    }
    if (this.schedules.size > 0) this.log.warn(`restored ${this.schedules.size} job schedules after Redis lost its data`);
    return this.schedules.size;
  }

  async add(queue: QueueName, job: JobSpec): Promise<void> {
    await this.queues[queue].add(job.name, job.data, { ...defaultOptions(), ...job.opts, jobId: job.jobId });
  }

  async addBulk(queue: QueueName, jobs: readonly JobSpec[]): Promise<void> {
    for (let i = 0; i < jobs.length; i += 1000) {
      await this.queues[queue].addBulk(
        jobs.slice(i, i + 1000).map((j) => ({
          name: j.name,
          data: j.data,
          opts: { ...defaultOptions(), ...j.opts, jobId: j.jobId },
        })),
      );
    }
  }

  /** A repeating job that survives restarts (BullMQ job scheduler, upserted idempotently). */
  async schedule(queue: QueueName, schedulerId: string, everyMs: number, job: Omit<JobSpec, 'jobId'>): Promise<void> {
    const s = { queue, schedulerId, everyMs, job };
    this.schedules.set(`${queue}/${schedulerId}`, s);
    await this.upsert(s);
  }

  private async upsert(s: Schedule): Promise<void> {
    await this.queues[s.queue].upsertJobScheduler(s.schedulerId, { every: s.everyMs }, {
      name: s.job.name,
      data: s.job.data,
      opts: { ...defaultOptions(), ...s.job.opts },
    });
  }

  async unschedule(queue: QueueName, schedulerId: string): Promise<void> {
    this.schedules.delete(`${queue}/${schedulerId}`);
    await this.queues[queue].removeJobScheduler(schedulerId);
  }

  /** Removes waiting jobs by id; a job already running is left to its compare-and-set. */
  async removeWaiting(queue: QueueName, jobIds: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of jobIds) {
      const job = await this.queues[queue].getJob(id);
      if (job && (await job.isWaiting().catch(() => false)) && (await job.remove().then(() => true, () => false))) removed++;
      else if (job && (await job.isDelayed().catch(() => false)) && (await job.remove().then(() => true, () => false))) removed++;
    }
    return removed;
  }

  /** Which of these job ids name a job that failed for good (attempts exhausted or unrecoverable). */
  async failedIds(queue: QueueName, jobIds: readonly string[]): Promise<Set<string>> {
    // concurrent, not one round trip after another: the planner asks after every batch
    const states = await Promise.all(jobIds.map((id) => this.queues[queue].getJobState(id)));
    return new Set(jobIds.filter((_, i) => states[i] === 'failed'));
  }

  /**
   * Worker processes consuming the migration queue now (BullMQ names its connections), read at
   * most every 5 s; 1 when Redis cannot tell (CLIENT LIST refused).
   */
  async migrationWorkers(nowMs = Date.now()): Promise<number> {
    if (nowMs - this.workers.atMs < 5_000) return this.workers.count;
    const count = await this.queues.migration.getWorkersCount().catch((err: unknown) => {
      this.log.debug(`counting workers failed: ${String(err)}`);
      return 1;
    });
    this.workers = { count: Math.max(1, count), atMs: nowMs };
    return this.workers.count;
  }

  /**
   * Jobs ready to run that no worker has taken yet: waiting, and delayed ones already due
   * (workers promote those when they fetch, so they pile up where no worker fetches).
   */
  async readyCount(queue: QueueName): Promise<number> {
    const q = this.queues[queue];
    const [counts, due] = await Promise.all([q.getJobCounts('waiting', 'prioritized'), q.getDelayedCount(Date.now())]);
    return (counts.waiting ?? 0) + (counts.prioritized ?? 0) + due;
  }

  async depth(queue: QueueName): Promise<QueueDepth> {
    const q = this.queues[queue];
    const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    const [oldest] = await q.getJobs(['waiting', 'prioritized'], -1, -1, false);
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingAgeMs: oldest ? Math.max(0, Date.now() - oldest.timestamp) : null,
    };
  }
}

function defaultOptions(): JobsOptions {
  return {
    attempts: 5,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 24 * 3600, count: 5000 },
  };
}
