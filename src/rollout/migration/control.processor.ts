import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import type { z } from 'zod';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { JOBS, campaignJobSchema, retryFailedJobSchema, usersReassessJobSchema } from '../campaigns/campaign-jobs';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { BACKFILL_TICK_MS, BackfillService, dataBackfillJobSchema } from './backfill.service';
import { MaintenanceService } from './maintenance.service';
import { MaterializerService } from './materializer.service';
import { PlannerService } from './planner.service';
import { EnrolmentService } from './enrolment.service';
import { RetryFailedService } from './retry-failed.service';

function parse<S extends z.ZodType>(schema: S, job: Job): z.infer<S> {
  const r = schema.safeParse(job.data);
  if (!r.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${r.error.message}`);
  return r.data;
}

/** The control queue: short jobs that decide what moves (planner, materialiser, reaper...). */
@Processor(QUEUES.control, { concurrency: 2 })
export class ControlProcessor extends WorkerHost {
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

  async process(job: Job): Promise<JobStatus> {
    switch (job.name) {
      case JOBS.materialize:
        return this.materializer.materialize(parse(campaignJobSchema, job).campaignId);
      case JOBS.plan:
        return this.planner.plan(parse(campaignJobSchema, job).campaignId);
      case JOBS.planTick:
        return this.planner.planAll();
      case JOBS.reap:
        return this.maintenance.reap();
      case JOBS.reconcile:
        return this.maintenance.reconcileAll();
      case JOBS.retryFailed: {
        const p = parse(retryFailedJobSchema, job);
        return this.retryFailed.chunk(p.campaignId, p.fromPpm);
      }
      case JOBS.usersReassess:
        return this.enrolment.reassess(parse(usersReassessJobSchema, job).userIds);
      case JOBS.dataBackfill:
        return this.backfills.runChunk(parse(dataBackfillJobSchema, job).name);
      case JOBS.dataBackfillTick:
        return this.backfills.resume();
      default:
        throw new UnrecoverableError(`unknown job ${job.name} on queue ${QUEUES.control}`);
    }
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
