import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { bigintIdSchema } from '../../core/validation/common.schemas';
import { RampControllerService } from './ramp-controller.service';

export const RAMP_JOBS = {
  /** ramp queue, scheduled: one tick of every running or paused campaign */
  tickAll: 'ramp-tick',
  /** ramp queue: one tick of one campaign (after an operator action, or from tests) */
  tickOne: 'ramp-tick-campaign',
} as const;

const tickOneSchema = z.object({ campaignId: bigintIdSchema });

@Processor(QUEUES.ramp, { concurrency: 1 })
export class RampProcessor extends WorkerHost {
  constructor(private readonly controller: RampControllerService) {
    super();
  }

  async process(job: Job): Promise<JobStatus> {
    switch (job.name) {
      case RAMP_JOBS.tickAll:
        return this.controller.tickAll();
      case RAMP_JOBS.tickOne: {
        const p = tickOneSchema.safeParse(job.data);
        if (!p.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${p.error.message}`);
        const r = await this.controller.tick(p.data.campaignId);
        return r.advanced || r.health?.stopped ? 'done' : 'skipped';
      }
      default:
        throw new UnrecoverableError(`unknown job ${job.name} on queue ${QUEUES.ramp}`);
    }
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
    await this.jobs.schedule(QUEUES.ramp, RAMP_JOBS.tickAll, this.config.ramp.tickIntervalMs, {
      name: RAMP_JOBS.tickAll,
      data: {},
      opts: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
    });
  }
}
