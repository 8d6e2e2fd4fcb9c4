import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { z } from 'zod';
import { JOBS } from '../../core/queue/job-registry';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { BACKFILLS, BackfillRepository, type BackfillName } from './backfill.repository';

/** Rows per chunk: one short statement (tens of milliseconds), never a long lock. */
export const BACKFILL_CHUNK_ROWS = 10_000;
/** A backfill whose last chunk is older than this has lost its chain of jobs. */
export const BACKFILL_STALLED_MS = 60_000;
export const BACKFILL_TICK_MS = 60_000;

export const dataBackfillJobSchema = z.object({ name: z.enum(BACKFILLS) });

function backfillJob(name: BackfillName, id: string) {
  return { name: JOBS.dataBackfill, data: { name }, jobId: `${JOBS.dataBackfill}-${name}-${id}` };
}

/**
 * Data backfills (docs/contributing.md, "Expand, backfill, contract"): a schema migration adds
 * a column and a row in data_backfills; the workers then fill the column chunk by chunk, each
 * chunk a job that records its position and queues the next. A worker that starts queues every
 * backfill that never ran, and the tick restarts one whose chain broke, from its position.
 */
@Injectable()
export class BackfillService implements OnApplicationBootstrap {
  private readonly log = new Logger(BackfillService.name);

  constructor(
    private readonly repo: BackfillRepository,
    private readonly jobs: JobsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.resume();
  }

  /** Queues the next chunk of every backfill that never ran or stalled; ids are deterministic, so replicas add each once. */
  async resume(): Promise<JobStatus> {
    const open = await this.repo.open(BACKFILL_STALLED_MS);
    for (const b of open) {
      const id = b.started ? `${b.position}-r${b.updatedAtMs}` : b.position;
      if (b.started) this.log.warn(`data backfill ${b.name} stood still at ${b.position}; resuming`);
      await this.jobs.add(QUEUES.control, backfillJob(b.name, id));
    }
    return open.length > 0 ? 'done' : 'skipped';
  }

  /** One chunk, then the next one's job; `skipped` once the backfill is finished. */
  async runChunk(name: BackfillName, limit = BACKFILL_CHUNK_ROWS): Promise<JobStatus> {
    const r = await this.repo.chunk(name, limit);
    if (!r) return 'skipped';
    if (r.done) {
      this.log.log(`data backfill ${name} finished: ${r.rowsDone} rows filled`);
      return 'done';
    }
    await this.jobs.add(QUEUES.control, backfillJob(name, r.position));
    return 'partial';
  }
}
