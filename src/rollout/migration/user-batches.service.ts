import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { batchJobSpec } from '../campaigns/campaign-jobs';
import type { BatchRef } from '../campaigns/campaigns.repository';
import type { Db } from '../../core/database/prisma.service';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES } from '../../core/queue/queue.constants';
import { PlannerRepository } from './planner.repository';

/**
 * Batches of explicit users (opt-ins, reassessed users, retried failures): planned inside the
 * caller's transaction, enqueued after it commits (a job never points at an uncommitted batch).
 */
@Injectable()
export class UserBatches {
  constructor(
    private readonly planner: PlannerRepository,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  plan(campaignId: bigint, userIds: readonly bigint[], tx: Db): Promise<BatchRef> {
    return this.planner.insertUserBatch(campaignId, userIds, tx);
  }

  backlog(campaignId: bigint): Promise<number> {
    return this.planner.backlog(campaignId);
  }

  async enqueue(campaignId: bigint, maxAttempts: number, refs: readonly BatchRef[]): Promise<void> {
    if (refs.length === 0) return;
    const retry = { maxAttempts, backoffMs: this.config.migration.retryBackoffMs };
    await this.jobs.addBulk(QUEUES.migration, refs.map((b) => batchJobSpec(campaignId, b, retry)));
  }
}
