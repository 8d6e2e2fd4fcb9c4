import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { acceptsUsers } from '../campaigns/campaign-lifecycle';
import { JOBS, batchJobSpec } from '../campaigns/campaign-jobs';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import type { Campaign } from '../campaigns/campaigns.types';
import { AuditService } from '../core/audit/audit.service';
import type { Actor } from '../core/auth/auth.types';
import { ConflictError, NotFoundError, TooManyRequestsError } from '../core/errors/domain-error';
import { JobsService } from '../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../core/queue/queue.constants';
import { RedisService } from '../core/redis/redis.service';
import { bucketOf } from '../flags/bucketing';
import { EnrolmentRepository, type UserMigrationView } from './enrolment.repository';
import { MaterializeRepository } from './materialize.repository';
import { PlannerRepository } from './planner.repository';

const RETRY_CHUNK_PPM = 50_000;

export class NotAcceptingError extends ConflictError {
  constructor(c: Campaign) {
    super('campaign.not_accepting', `campaign ${c.key} is ${c.status} and takes nobody in`, { status: c.status });
  }
}

/** Users entering a campaign outside the ramp: opt-ins, reassessment, retry of failures. */
@Injectable()
export class EnrolmentService {
  constructor(
    private readonly repo: EnrolmentRepository,
    private readonly materialize: MaterializeRepository,
    private readonly planner: PlannerRepository,
    private readonly campaigns: CampaignsService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisService,
  ) {}

  /** Idempotent: a user already admitted (or further) is answered with their current state. */
  async optIn(ref: string, userId: bigint, actor: Actor): Promise<UserMigrationView> {
    const c = await this.campaigns.get(ref);
    if (!acceptsUsers(c.status)) throw new NotAcceptingError(c);
    await this.rateLimit(userId);
    const flag = await this.campaigns.getFlag(c);
    const result = await this.repo.prisma.transaction(async (tx) => {
      await this.materialize.insertOne(c.id, c.populationFilter, userId, bucketOf(flag.salt, String(userId)), tx);
      const moved = await this.repo.optIn(c.id, userId, flag.version, tx);
      const batch = moved?.to === 'eligible' ? await this.planner.insertUserBatch(c.id, [userId], tx) : null;
      if (moved) {
        await this.audit.record({ actor, action: 'campaign.user_opted_in', entityType: 'user_migration', entityId: `${c.id}:${userId}`, before: { state: moved.from }, after: { state: moved.to } }, tx);
      }
      return { batch, view: await this.repo.find(c.id, userId, tx) };
    });
    if (!result.view) {
      if (!(await this.repo.userExists(userId))) throw new NotFoundError('user', userId);
      throw new ConflictError('campaign.user_not_in_population', `user ${userId} is not in the population of campaign ${c.key}`);
    }
    // an operator hold wins over the user's wish; releasing the hold admits them again
    if (result.view.state === 'held') throw new ConflictError('campaign.user_held', `user ${userId} is held by an operator hold in campaign ${c.key}; see GET /api/v1/campaigns/${c.key}/users/${userId}`);
    if (result.batch) await this.jobs.add(QUEUES.migration, batchJobSpec(c.id, result.batch, { maxAttempts: c.pacing.maxAttempts, backoffMs: this.config.migration.retryBackoffMs }));
    return result.view;
  }

  /** Operator action: failed users get another chance (a background job, chunk by chunk). */
  async requestRetryFailed(ref: string, actor: Actor, reason?: string): Promise<Campaign> {
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

  /** One bucket chunk of a retry-failed sweep; waits while the backlog is full. */
  async retryFailedChunk(campaignId: bigint, fromPpm: number): Promise<JobStatus> {
    const c = await this.campaigns.get(String(campaignId));
    if (!acceptsUsers(c.status)) return 'skipped';
    const next = (delay: number, from: number) =>
      this.jobs.add(QUEUES.control, { name: JOBS.retryFailed, data: { campaignId: String(c.id), fromPpm: from }, jobId: `${JOBS.retryFailed}-${c.id}-${from}-${Date.now()}`, opts: { delay } });
    if ((await this.planner.backlog(c.id)) >= c.pacing.backlogBatches) {
      await next(this.config.migration.plannerIntervalMs, fromPpm);
      return 'partial';
    }
    const to = Math.min(1_000_000, fromPpm + RETRY_CHUNK_PPM);
    const refs = await this.repo.prisma.transaction(async (tx) => {
      const users = await this.repo.retryFailed(c.id, fromPpm, to, tx);
      const out: BatchRef[] = [];
      for (let i = 0; i < users.length; i += c.pacing.batchSize) out.push(await this.planner.insertUserBatch(c.id, users.slice(i, i + c.pacing.batchSize), tx));
      return out;
    });
    if (refs.length > 0) await this.jobs.addBulk(QUEUES.migration, refs.map((b) => batchJobSpec(c.id, b, { maxAttempts: c.pacing.maxAttempts, backoffMs: this.config.migration.retryBackoffMs })));
    if (to < 1_000_000) await next(0, to);
    return refs.length > 0 ? 'done' : 'skipped';
  }

  /** users-reassess: moves users between eligible and ineligible after an attribute change. */
  async reassess(userIds: readonly bigint[]): Promise<JobStatus> {
    const { rows, refs } = await this.repo.prisma.transaction(async (tx) => {
      const rows = await this.repo.reassess(userIds, tx);
      const refs: Array<{ campaignId: bigint; ref: BatchRef }> = [];
      for (const campaignId of new Set(rows.filter((r) => r.state === 'eligible').map((r) => r.campaignId))) {
        const users = rows.filter((r) => r.campaignId === campaignId && r.state === 'eligible').map((r) => r.userId);
        refs.push({ campaignId, ref: await this.planner.insertUserBatch(campaignId, users, tx) });
      }
      return { rows, refs };
    });
    for (const { campaignId, ref } of refs) {
      const c = await this.campaigns.get(String(campaignId));
      await this.jobs.add(QUEUES.migration, batchJobSpec(campaignId, ref, { maxAttempts: c.pacing.maxAttempts, backoffMs: this.config.migration.retryBackoffMs }));
    }
    return rows.length > 0 ? 'done' : 'skipped';
  }

  async setRecovery(userId: bigint, method: string, campaignRef: string | undefined, actor: Actor) {
    const campaignId = campaignRef !== undefined ? (await this.campaigns.get(campaignRef)).id : null;
    const rows = await this.repo.prisma.transaction(async (tx) => {
      const rows = await this.repo.setRecovery(userId, method, campaignId, tx);
      for (const r of rows.filter((x) => x.changed)) {
        await this.audit.record(
          { actor, action: 'user_migration.recovery_set', entityType: 'user_migration', entityId: `${r.campaignId}:${userId}`, before: { recoveryState: r.oldState, recoveryMethod: r.oldMethod }, after: { recoveryState: 'set', recoveryMethod: method } },
          tx,
        );
      }
      return rows;
    });
    if (rows.length === 0) throw new ConflictError('recovery.user_not_enabled', `user ${userId} is not enabled in ${campaignRef ? `campaign ${campaignRef}` : 'any campaign'}; recovery is set up after enablement`);
    return { userId: String(userId), campaigns: rows.map((r) => ({ campaignId: String(r.campaignId), recoveryState: 'set', recoveryMethod: method, changed: r.changed })) };
  }

  /** Opt-ins per user per minute and overall per second (Redis counters, one window each). */
  private async rateLimit(userId: bigint): Promise<void> {
    const m = this.config.migration;
    const now = Date.now();
    const userKey = this.redis.key('ratelimit', 'optin', 'u', userId, Math.floor(now / 60_000));
    const globalKey = this.redis.key('ratelimit', 'optin', 'all', Math.floor(now / 1000));
    const [[, u], , [, g]] = (await this.redis.client.multi().incr(userKey).expire(userKey, 120).incr(globalKey).expire(globalKey, 5).exec()) as Array<[unknown, number]>;
    if (u > m.optInLimitPerUserPerMinute) throw new TooManyRequestsError('opt_in.rate_limited', `too many opt-ins for user ${userId}; retry in a minute`, 60);
    if (g > m.optInLimitPerSecond) throw new TooManyRequestsError('opt_in.rate_limited', 'too many opt-ins right now; retry in a second', 1);
  }
}
