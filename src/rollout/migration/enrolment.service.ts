import { Injectable } from '@nestjs/common';
import { acceptsUsers } from '../campaigns/campaign-lifecycle';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import type { Campaign } from '../campaigns/campaigns.types';
import { AuditService } from '../../core/audit/audit.service';
import type { Actor } from '../../core/auth/auth.types';
import { ConflictError, NotFoundError } from '../../core/errors/domain-error';
import type { JobStatus } from '../../core/queue/queue.constants';
import { bucketOf } from '../../flags/bucketing';
import { EnrolmentRepository, type UserMigrationView } from './enrolment.repository';
import { MaterializeRepository } from './materialize.repository';
import { OptInRateLimiter } from './opt-in-rate-limiter';
import { UserBatches } from './user-batches.service';

export class NotAcceptingError extends ConflictError {
  constructor(c: Campaign) {
    super('campaign.not_accepting', `campaign ${c.key} is ${c.status} and takes nobody in`, { status: c.status });
  }
}

/** Users entering a campaign outside the ramp: opt-ins and reassessment; recovery setup. Retries: RetryFailedService. */
@Injectable()
export class EnrolmentService {
  constructor(
    private readonly repo: EnrolmentRepository,
    private readonly materialize: MaterializeRepository,
    private readonly batches: UserBatches,
    private readonly campaigns: CampaignsService,
    private readonly audit: AuditService,
    private readonly rateLimiter: OptInRateLimiter,
  ) {}

  /** Idempotent: a user already admitted (or further) is answered with their current state. */
  async optIn(ref: string, userId: bigint, actor: Actor): Promise<UserMigrationView> {
    const c = await this.campaigns.get(ref);
    if (!acceptsUsers(c.status)) throw new NotAcceptingError(c);
    await this.rateLimiter.check(userId);
    const flag = await this.campaigns.getFlag(c);
    const result = await this.repo.prisma.transaction(async (tx) => {
      await this.materialize.insertOne(c.id, c.populationFilter, userId, bucketOf(flag.salt, String(userId)), tx);
      const moved = await this.repo.optIn(c.id, userId, flag.version, tx);
      const batch = moved?.to === 'eligible' ? await this.batches.plan(c.id, [userId], tx) : null;
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
    if (result.batch) await this.batches.enqueue(c.id, c.pacing.maxAttempts, [result.batch]);
    return result.view;
  }

  /** users-reassess: moves users between eligible and ineligible after an attribute change. */
  async reassess(userIds: readonly bigint[]): Promise<JobStatus> {
    const { rows, refs } = await this.repo.prisma.transaction(async (tx) => {
      const rows = await this.repo.reassess(userIds, tx);
      const refs: Array<{ campaignId: bigint; ref: BatchRef }> = [];
      for (const campaignId of new Set(rows.filter((r) => r.state === 'eligible').map((r) => r.campaignId))) {
        const users = rows.filter((r) => r.campaignId === campaignId && r.state === 'eligible').map((r) => r.userId);
        refs.push({ campaignId, ref: await this.batches.plan(campaignId, users, tx) });
      }
      return { rows, refs };
    });
    for (const { campaignId, ref } of refs) {
      const c = await this.campaigns.get(String(campaignId));
      await this.batches.enqueue(campaignId, c.pacing.maxAttempts, [ref]);
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
}
