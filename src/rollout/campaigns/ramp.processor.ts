import { Processor } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { JobProcessor, OnJob } from '../../core/queue/job-processor';
import { JOBS, type JobPayload } from '../../core/queue/job-registry';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { RampControllerService } from './ramp-controller.service';

@Processor(QUEUES.ramp, { concurrency: 1 })
export class RampProcessor extends JobProcessor {
  constructor(private readonly controller: RampControllerService) {
    super();
  }

  @OnJob('rampTick')
  async tickAll(): Promise<JobStatus> {
    return this.controller.tickAll();
  }

  @OnJob('rampTickCampaign')
  async tickOne(p: JobPayload<'rampTickCampaign'>): Promise<JobStatus> {
    const r = await this.controller.tick(p.campaignId);
    return r.advanced || r.health?.stopped ? 'done' : 'skipped';
  }
}

/** Upserts the ramp tick scheduler when a worker starts (a BullMQ job scheduler: survives restarts, idempotent across replicas). */
@Injectable()
export class RampSchedules implements OnApplicationBootstrap {
  constructor(
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.schedule(QUEUES.ramp, JOBS.rampTick, this.config.ramp.tickIntervalMs, {
      name: JOBS.rampTick,
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
    });
  }
}
