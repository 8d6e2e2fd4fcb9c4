import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { batchJobSpec } from '../campaigns/campaign-jobs';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import type { Campaign } from '../campaigns/campaigns.types';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { PlannerRepository } from './planner.repository';
import type { BucketRange } from './range-cuts';

const MAX_ROUNDS = 50;

class PlannerRaceError extends Error {}

/**
 * Turns admission into batch jobs. Admission is the bucket range [planned_ppm, admitted)
 * where admitted is the admission flag's rollout (0 when the flag is killed). The planner
 * keeps a bounded backlog of queued or running batches per campaign (`backlogBatches`, more
 * with more workers) and refills as they finish; each round is one transaction (CAS on planned_ppm, insert the batch rows) followed
 * by the jobs. The users of a range are admitted by its batch's claim.
 */
@Injectable()
export class PlannerService {
  private readonly log = new Logger(PlannerService.name);

  constructor(
    private readonly repo: PlannerRepository,
    private readonly campaigns: CampaignsService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The periodic tick: plans every running campaign and gives lost batch jobs back. */
  async planAll(): Promise<JobStatus> {
    const running = await this.campaigns.list({ status: 'running', limit: 500 });
    let planned = false;
    for (const c of running) planned = (await this.plan(c.id, { ensureJobs: true })) !== 'skipped' || planned;
    return planned ? 'done' : 'skipped';
  }

  /**
   * `ensureJobs`: also re-add the jobs of the campaign's queued batches (a lost job comes
   * back). Only the tick does it: in the refill after each batch it would cost a BullMQ script
   * per queued batch, per finished batch.
   */
  async plan(campaignId: bigint, opts: { ensureJobs: boolean } = { ensureJobs: false }): Promise<JobStatus> {
    let c = await this.campaigns.get(String(campaignId));
    const flag = await this.campaigns.getFlag(c);
    const admitted = flag.killed ? 0 : flag.rolloutPpm;
    if (c.admittedPpm !== admitted) await this.repo.setAdmitted(c.id, admitted);
    if (c.status !== 'running' || c.materializedAt === null) return 'skipped';
    if (opts.ensureJobs) await this.ensureJobs(c);
    let created = 0;
    const cap = await this.backlogCap(c);
    for (let round = 0; round < MAX_ROUNDS && c.plannedPpm < admitted; round++) {
      const room = cap - (await this.repo.backlog(c.id));
      if (room <= 0) break;
      const ranges = await this.repo.nextRanges(c.id, c.plannedPpm, admitted, c.pacing.batchSize, room);
      // nobody left to admit below the ceiling: it moves up without a batch
      const to = ranges.length > 0 ? ranges[ranges.length - 1].to : admitted;
      const refs = await this.planRanges(c, ranges, to, admitted);
      if (refs === null) break;
      created += refs.length;
      c = { ...c, plannedPpm: to };
    }
    return created > 0 ? 'done' : 'skipped';
  }

  /**
   * The campaign's backlogBatches is a floor: with more workers the backlog grows to two
   * batches per slot (workers × WORKER_CONCURRENCY), so that added workers find work instead
   * of idling behind a fixed cap. The pace still decides how fast users are admitted.
   */
  private async backlogCap(c: Campaign): Promise<number> {
    const slots = (await this.jobs.migrationWorkers()) * this.config.worker.concurrency;
    return Math.max(c.pacing.backlogBatches, 2 * slots);
  }

  /**
   * One transaction for the ranges; null when another planner advanced first. Planning only
   * cuts batches and moves the ceiling: each range batch admits its users when it claims
   * them (BatchesRepository.claim), so a user is not written once more just to be admitted.
   */
  private async planRanges(c: Campaign, ranges: BucketRange[], to: number, admitted: number): Promise<BatchRef[] | null> {
    const refs = await this.repo.prisma.transaction(async (tx) => {
      if (!(await this.repo.beginRound(c.id, c.plannedPpm, tx))) throw new PlannerRaceError();
      const refs = await this.repo.insertBatches(c.id, ranges, tx);
      // last, so that the campaign row (which claims read FOR SHARE) is locked only briefly
      if (!(await this.repo.advancePlanned(c.id, c.plannedPpm, to, admitted, tx))) throw new PlannerRaceError();
      return refs;
    }).catch((err: unknown) => {
      if (err instanceof PlannerRaceError) return null;
      throw err;
    });
    if (refs && refs.length > 0) await this.jobs.addBulk(QUEUES.migration, refs.map((b) => batchJobSpec(c.id, b, { maxAttempts: c.pacing.maxAttempts, backoffMs: this.config.migration.retryBackoffMs })));
    return refs;
  }

  /**
   * Queued batches whose job was lost (a crash between commit and enqueue) get it back (the
   * add is a no-op for a job that exists). A batch whose job failed for good (its attempts
   * exhausted by errors before any claim, e.g. PostgreSQL down for longer than the backoff)
   * is queued again under a new job id: its users would otherwise wait until BullMQ forgets
   * the failed job (24 h).
   */
  private async ensureJobs(c: Campaign): Promise<void> {
    const queued = await this.repo.queuedBatches(c.id);
    if (queued.length === 0) return;
    const spec = (b: BatchRef) => batchJobSpec(c.id, b, { maxAttempts: c.pacing.maxAttempts, backoffMs: this.config.migration.retryBackoffMs });
    const specs = queued.map(spec);
    const failed = await this.jobs.failedIds(QUEUES.migration, specs.map((s) => s.jobId));
    const refs: BatchRef[] = [];
    for (const [i, b] of queued.entries()) {
      if (!failed.has(specs[i].jobId)) refs.push(b);
      else {
        const again = await this.repo.requeue(b.id);
        if (again) refs.push(again);
        this.log.warn(`batch ${b.id} of campaign ${c.key}: its job failed for good; queued again`);
      }
    }
    await this.jobs.addBulk(QUEUES.migration, refs.map(spec));
  }
}
