import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { acceptsUsers } from '../campaigns/campaign-lifecycle';
import { JOBS } from '../../core/queue/job-registry';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import type { Campaign } from '../campaigns/campaigns.types';
import { AuditService } from '../../core/audit/audit.service';
import type { Actor } from '../../core/auth/auth.types';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { EnrolmentRepository } from './enrolment.repository';
import { NotAcceptingError } from './enrolment.service';
import { UserBatches } from './user-batches.service';

const RETRY_CHUNK_PPM = 50_000;

/** `retry-failed`: failed users get another chance, swept bucket chunk by bucket chunk. */
@Injectable()
export class RetryFailedService {
  constructor(
    private readonly repo: EnrolmentRepository,
    private readonly batches: UserBatches,
    private readonly campaigns: CampaignsService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Operator action: audited, then a background job (deduplicated while one runs). */
  async request(ref: string, actor: Actor, reason?: string): Promise<Campaign> {
    const c = await this.campaigns.get(ref);
    if (!acceptsUsers(c.status)) throw new NotAcceptingError(c);
    await this.repo.prisma.transaction((tx) =>
      this.audit.record({ actor, action: 'campaign.retry_failed_requested', entityType: 'campaign', entityId: String(c.id), before: null, after: { status: c.status }, reason }, tx),
    );
    await this.jobs.add(QUEUES.control, {
      name: JOBS.retryFailed,
      data: { campaignId: String(c.id), fromPpm: 0 },
      jobId: `${JOBS.retryFailed}-${c.id}-0-${Date.now()}`,
      opts: { deduplication: { id: `${JOBS.retryFailed}-${c.id}` } },
    });
    return c;
  }

  /** One bucket chunk of a sweep; waits while the backlog is full. */
  async chunk(campaignId: bigint, fromPpm: number): Promise<JobStatus> {
    const c = await this.campaigns.get(String(campaignId));
    if (!acceptsUsers(c.status)) return 'skipped';
    const next = (delay: number, from: number) =>
      this.jobs.add(QUEUES.control, { name: JOBS.retryFailed, data: { campaignId: String(c.id), fromPpm: from }, jobId: `${JOBS.retryFailed}-${c.id}-${from}-${Date.now()}`, opts: { delay } });
    if ((await this.batches.backlog(c.id)) >= c.pacing.backlogBatches) {
      await next(this.config.migration.plannerIntervalMs, fromPpm);
      return 'partial';
    }
    const to = Math.min(1_000_000, fromPpm + RETRY_CHUNK_PPM);
    const refs = await this.repo.prisma.transaction(async (tx) => {
      const users = await this.repo.retryFailed(c.id, fromPpm, to, tx);
      const out: BatchRef[] = [];
      for (let i = 0; i < users.length; i += c.pacing.batchSize) out.push(await this.batches.plan(c.id, users.slice(i, i + c.pacing.batchSize), tx));
      return out;
    });
    await this.batches.enqueue(c.id, c.pacing.maxAttempts, refs);
    if (to < 1_000_000) await next(0, to);
    return refs.length > 0 ? 'done' : 'skipped';
  }
}
