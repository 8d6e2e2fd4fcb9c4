import { Processor } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { JobProcessor, OnJob } from '../core/queue/job-processor';
import { JOBS, type JobPayload } from '../core/queue/job-registry';
import { JobsService } from '../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../core/queue/queue.constants';
import { WebhookDeliveryService } from './webhook-delivery.service';

/** The webhooks queue: a thin adapter around WebhookDeliveryService. */
@Processor(QUEUES.webhooks, { concurrency: 4 })
export class WebhooksProcessor extends JobProcessor {
  constructor(private readonly delivery: WebhookDeliveryService) {
    super();
  }

  @OnJob('webhookDispatch')
  async dispatch(): Promise<JobStatus> {
    return this.delivery.dispatch();
  }

  @OnJob('webhookDeliver')
  async deliver(p: JobPayload<'webhookDeliver'>, job: Job): Promise<JobStatus> {
    return this.delivery.deliver(p.deliveryId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
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
    await this.jobs.schedule(QUEUES.webhooks, JOBS.webhookDispatch, this.config.webhooks.dispatchIntervalMs, {
      name: JOBS.webhookDispatch,
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
    });
  }
}
