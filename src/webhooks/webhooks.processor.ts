import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { JobsService } from '../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../core/queue/queue.constants';
import { WEBHOOK_JOBS, WebhookDeliveryService } from './webhook-delivery.service';
import { deliverJobSchema } from './webhooks.schemas';

/** The webhooks queue: a thin adapter around WebhookDeliveryService. */
@Processor(QUEUES.webhooks, { concurrency: 4 })
export class WebhooksProcessor extends WorkerHost {
  constructor(private readonly delivery: WebhookDeliveryService) {
    super();
  }

  async process(job: Job): Promise<JobStatus> {
    switch (job.name) {
      case WEBHOOK_JOBS.dispatch:
        return this.delivery.dispatch();
      case WEBHOOK_JOBS.deliver: {
        const p = deliverJobSchema.safeParse(job.data);
        if (!p.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${p.error.message}`);
        return this.delivery.deliver(p.data.deliveryId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
      }
      default:
        throw new UnrecoverableError(`unknown job ${job.name} on queue ${QUEUES.webhooks}`);
    }
  }
}

/** Upserts the dispatcher's scheduler when a worker starts (idempotent across replicas). */
@Injectable()
export class WebhookSchedules implements OnApplicationBootstrap {
  constructor(
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.schedule(QUEUES.webhooks, WEBHOOK_JOBS.dispatch, this.config.webhooks.dispatchIntervalMs, {
      name: WEBHOOK_JOBS.dispatch,
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
    });
  }
}
