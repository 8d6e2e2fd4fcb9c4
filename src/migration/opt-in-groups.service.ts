import { Inject, Injectable, Logger } from '@nestjs/common';
import { acceptsUsers } from '../campaigns/campaign-lifecycle';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import type { Campaign } from '../campaigns/campaigns.types';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { AuditService } from '../core/audit/audit.service';
import type { Actor } from '../core/auth/auth.types';
import { GroupCommit } from '../core/database/group-commit';
import { PrismaService } from '../core/database/prisma.service';
import { ConflictError, NotFoundError } from '../core/errors/domain-error';
import { bucketOf } from '../flags/bucketing';
import { NotAcceptingError } from './enrolment.errors';
import type { UserMigrationView } from './enrolment.repository';
import { OptInGroupRepository, type GroupView } from './opt-in-group.repository';
import { UserBatches } from './user-batches.service';

interface OptInRequest {
  userId: bigint;
  actor: Actor;
}

/**
 * Opt-ins, group-committed (core/database/group-commit.ts): the opt-ins of one campaign that
 * arrive together are applied in ONE direct transaction of set-based statements (rows
 * materialised where missing, the opt-in itself with its counters, one batch for the group's
 * admitted users, one audit row per user moved), then each caller gets their own answer.
 * A repeat changes nothing and gets the user's current state.
 */
@Injectable()
export class OptInGroups {
  private readonly log = new Logger(OptInGroups.name);
  private readonly groups: GroupCommit<OptInRequest, UserMigrationView>;

  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: OptInGroupRepository,
    private readonly campaigns: CampaignsService,
    private readonly batches: UserBatches,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const { windowMs, maxSize } = config.migration.groupCommit;
    this.groups = new GroupCommit({ windowMs, maxSize, apply: (ref, items) => this.apply(ref, items) });
  }

  optIn(campaignRef: string, userId: bigint, actor: Actor): Promise<UserMigrationView> {
    return this.groups.submit(campaignRef, { userId, actor });
  }

  private async apply(ref: string, items: readonly OptInRequest[]): Promise<Array<UserMigrationView | Error>> {
    const c = await this.campaigns.get(ref).catch((err: unknown) => err as Error);
    if (c instanceof Error) return items.map(() => c);
    if (!acceptsUsers(c.status)) return items.map(() => new NotAcceptingError(c));
    const flag = await this.campaigns.getFlag(c);
    const ids = [...new Set(items.map((i) => i.userId))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const { views, batch } = await this.prisma.directTransaction(async (q) => {
      await this.repo.insertMissing(q, c.id, c.populationFilter, ids, ids.map((id) => bucketOf(flag.salt, String(id))));
      const moved = await this.repo.optIn(q, c.id, ids, flag.version);
      const admitted = moved.filter((m) => m.to === 'eligible').map((m) => m.userId);
      const batch = admitted.length > 0 ? await this.repo.insertBatch(q, c.id, admitted) : null;
      const actorOf = new Map(items.map((i) => [i.userId, i.actor] as const));
      await this.audit.recordMany(
        moved.map((m) => ({ actor: actorOf.get(m.userId)!, action: 'campaign.user_opted_in', entityType: 'user_migration', entityId: `${c.id}:${m.userId}`, before: { state: m.from }, after: { state: m.to } })),
        q,
      );
      return { views: await this.repo.views(q, c.id, ids), batch };
    });
    if (batch) await this.enqueue(c, batch);
    return items.map((i) => answerOf(c, i.userId, views.get(i.userId)));
  }

  private async enqueue(c: Campaign, batch: BatchRef): Promise<void> {
    // committed: a batch whose job could not be added is found and queued by the planner
    // (PlannerService.ensureJobs), so the callers still get their answers
    await this.batches.enqueue(c.id, c.pacing.maxAttempts, [batch]).catch((err: unknown) => {
      this.log.warn(`opt-in batch ${batch.id} of campaign ${c.key}: job not added now (${(err as Error)?.message}); the planner adds it`);
    });
  }
}

function answerOf(c: Campaign, userId: bigint, view: GroupView | undefined): UserMigrationView | Error {
  if (view === undefined || view === 'unknown_user') return new NotFoundError('user', userId);
  if (view === 'not_in_population') return new ConflictError('campaign.user_not_in_population', `user ${userId} is not in the population of campaign ${c.key}`);
  // an operator hold wins over the user's wish; releasing the hold admits them again
  if (view.state === 'held') return new ConflictError('campaign.user_held', `user ${userId} is held by an operator hold in campaign ${c.key}; see GET /api/v1/campaigns/${c.key}/users/${userId}`);
  return view;
}
