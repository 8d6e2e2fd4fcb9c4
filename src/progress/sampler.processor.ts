import { Processor } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { JobProcessor, OnJob } from '../core/queue/job-processor';
import { JOBS } from '../core/queue/job-registry';
import { JobsService } from '../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../core/queue/queue.constants';
import { SAMPLE_INTERVAL_MS, SamplerService } from './sampler.service';

export const SAMPLER_SCHEDULER_ID = 'progress-sampler';

@Processor(QUEUES.progress, { concurrency: 1 })
export class SamplerProcessor extends JobProcessor {
  constructor(private readonly sampler: SamplerService) {
    super();
  }

  @OnJob('progressSample')
  async sample(): Promise<JobStatus> {
    return this.sampler.sample();
  }
}

/** Upserts the repeating sampler job when a worker starts (idempotent across replicas). */
@Injectable()
export class SamplerScheduler implements OnApplicationBootstrap {
  constructor(private readonly jobs: JobsService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.schedule(QUEUES.progress, SAMPLER_SCHEDULER_ID, SAMPLE_INTERVAL_MS, {
      name: JOBS.progressSample,
      data: {},
      // a missed sample is replaced by the next one: never retry, keep little history
      opts: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 200 } },
    });
  }
}
