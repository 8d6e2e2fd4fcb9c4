import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { JobProcessor, OnJob } from '../../core/queue/job-processor';
import { JOBS, type JobPayload } from '../../core/queue/job-registry';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { BACKFILL_TICK_MS, BackfillService, dataBackfillJobSchema } from './backfill.service';
import { MaintenanceService } from './maintenance.service';
import { MaterializerService } from './materializer.service';
import { PlannerService } from './planner.service';
import { EnrolmentService } from './enrolment.service';
import { RetryFailedService } from './retry-failed.service';

/** The control queue: short jobs that decide what moves (planner, materialiser, reaper...). */
@Processor(QUEUES.control, { concurrency: 2 })
export class ControlProcessor extends JobProcessor {
  private readonly log = new Logger(ControlProcessor.name);

  constructor(
    private readonly materializer: MaterializerService,
    private readonly planner: PlannerService,
    private readonly maintenance: MaintenanceService,
    private readonly enrolment: EnrolmentService,
    private readonly retryFailed: RetryFailedService,
    private readonly backfills: BackfillService,
  ) {
    super();
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    this.log.warn(`${job?.name ?? 'control'} job ${job?.id} failed (attempt ${job?.attemptsMade ?? '?'}): ${err?.message}`);
  }

  @OnJob('materialize')
  async materialize(p: JobPayload<'materialize'>): Promise<JobStatus> {
    return this.materializer.materialize(p.campaignId);
  }

  @OnJob('plan')
  async plan(p: JobPayload<'plan'>): Promise<JobStatus> {
    return this.planner.plan(p.campaignId);
  }

  @OnJob('planTick')
  async planTick(): Promise<JobStatus> {
    return this.planner.planAll();
  }

  @OnJob('reap')
  async reap(): Promise<JobStatus> {
    return this.maintenance.reap();
  }

  @OnJob('reconcile')
  async reconcile(): Promise<JobStatus> {
    return this.maintenance.reconcileAll();
  }

  @OnJob('retryFailed')
  async retryFailedChunk(p: JobPayload<'retryFailed'>): Promise<JobStatus> {
    return this.retryFailed.chunk(p.campaignId, p.fromPpm);
  }

  @OnJob('usersReassess')
  async usersReassess(p: JobPayload<'usersReassess'>): Promise<JobStatus> {
    return this.enrolment.reassess(p.userIds);
  }

  @OnJob('dataBackfill')
  async dataBackfill(p: JobPayload<'dataBackfill'>, job: Job): Promise<JobStatus> {
    const r = dataBackfillJobSchema.safeParse(p);
    if (!r.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${r.error.message}`);
    return this.backfills.runChunk(r.data.name);
  }

  @OnJob('dataBackfillTick')
  async dataBackfillTick(): Promise<JobStatus> {
    return this.backfills.resume();
  }
}

/** Upserts the repeating control jobs when a worker starts (idempotent across replicas). */
@Injectable()
export class MigrationSchedules implements OnApplicationBootstrap {
  constructor(
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const m = this.config.migration;
    const opts = { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } };
    await this.jobs.schedule(QUEUES.control, JOBS.planTick, m.plannerIntervalMs, { name: JOBS.planTick, data: {}, opts });
    await this.jobs.schedule(QUEUES.control, JOBS.reap, m.reaperIntervalMs, { name: JOBS.reap, data: {}, opts });
    await this.jobs.schedule(QUEUES.control, JOBS.reconcile, m.reconcilerIntervalMs, { name: JOBS.reconcile, data: {}, opts });
    await this.jobs.schedule(QUEUES.control, JOBS.dataBackfillTick, BACKFILL_TICK_MS, { name: JOBS.dataBackfillTick, data: {}, opts });
  }
}
