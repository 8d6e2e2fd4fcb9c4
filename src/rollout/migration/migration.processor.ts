import { OnWorkerEvent, Processor } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { JobProcessor, OnJob } from '../../core/queue/job-processor';
import type { JobPayload } from '../../core/queue/job-registry';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { MigratorService, RetryPendingError } from './migrator.service';

/** batch-migrate jobs. Concurrency comes from WORKER_CONCURRENCY (set at bootstrap); shutdown: src/worker-shutdown.ts. */
@Processor(QUEUES.migration, { autorun: true })
export class MigrationProcessor extends JobProcessor implements OnApplicationBootstrap {
  private readonly log = new Logger(MigrationProcessor.name);

  constructor(
    private readonly migrator: MigratorService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.worker.concurrency;
  }

  @OnJob('batchMigrate')
  async batchMigrate(batch: JobPayload<'batchMigrate'>, job: Job, token?: string): Promise<JobStatus> {
    return this.migrator.migrateBatch(batch, {
      park: async (delayMs: number): Promise<never> => {
        await job.moveToDelayed(Date.now() + Math.max(1, Math.round(delayMs)), token);
        throw new DelayedError();
      },
    });
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    if (err instanceof RetryPendingError || err?.name === 'RetryPendingError') this.log.debug(`batch job ${job?.id}: ${err.message}`);
    else this.log.warn(`batch job ${job?.id} failed (attempt ${job?.attemptsMade ?? '?'}): ${err?.message}`);
  }
}
