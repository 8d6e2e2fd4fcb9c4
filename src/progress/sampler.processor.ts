import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { JobsService } from '../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../core/queue/queue.constants';
import { SAMPLE_INTERVAL_MS, SamplerService } from './sampler.service';

export const SAMPLE_JOB = 'progress-sample';
export const SAMPLER_SCHEDULER_ID = 'progress-sampler';

@Processor(QUEUES.progress, { concurrency: 1 })
export class SamplerProcessor extends WorkerHost {
  constructor(private readonly sampler: SamplerService) {
    super();
  }

  async process(job: Job): Promise<JobStatus> {
    if (job.name !== SAMPLE_JOB) throw new UnrecoverableError(`unknown job ${job.name} on queue ${QUEUES.progress}`);
    return this.sampler.sample();
  }
}

/** Upserts the repeating sampler job when a worker starts (idempotent across replicas). */
@Injectable()
export class SamplerScheduler implements OnApplicationBootstrap {
  constructor(private readonly jobs: JobsService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.schedule(QUEUES.progress, SAMPLER_SCHEDULER_ID, SAMPLE_INTERVAL_MS, {
      name: SAMPLE_JOB,
      data: {},
      // a missed sample is replaced by the next one: never retry, keep little history
      opts: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 200 } },
    });
  }
}
