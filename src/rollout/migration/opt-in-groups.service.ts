import { Inject, Injectable, Logger } from '@nestjs/common';
import { acceptsUsers } from '../campaigns/campaign-lifecycle';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import type { Campaign } from '../campaigns/campaigns.types';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { AuditService } from '../../core/audit/audit.service';
import type { Actor } from '../../core/auth/auth.types';
import { GroupCommit } from '../../core/database/group-commit';
import { PrismaService, type DirectQuery } from '../../core/database/prisma.service';
import { ConflictError, NotFoundError } from '../../core/errors/domain-error';
import { bucketOf } from '../../flags/bucketing';
import { NotAcceptingError } from './enrolment.errors';
import type { UserMigrationView } from './enrolment.repository';
import { OptInGroupRepository, type GroupView, type OptInGroup } from './opt-in-group.repository';
import { UserBatches } from './user-batches.service';

interface OptInRequest {
  userId: bigint;
  actor: Actor;
}

/**
 * Opt-ins, group-committed (core/database/group-commit.ts): the opt-ins of one campaign that
 * arrive together are applied by ONE statement on the direct pg path (the opt-in with its
 * counters, one batch for the group's admitted users, an audit row per user moved, the answers),
 * then each caller gets their own answer. A repeat changes nothing and gets the current state.
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
    const actors = new Map(items.map((i) => [i.userId, i.actor] as const));
    const group = (of: readonly bigint[]): OptInGroup => ({
      campaignId: c.id,
      ids: of,
      flagVersion: flag.version,
      actors: this.audit.actorsOf(of.map((userId) => ({ userId, actor: actors.get(userId)! }))),
      audit: (source) => this.audit.insertFrom(source),
    });
    const direct: DirectQuery = (sql) => this.prisma.direct(sql);
    const first = await this.repo.apply(direct, group(ids));
    const views = first.views;
    const batches = first.batch ? [first.batch] : [];
    // users without a row yet (opt-ins before materialisation reached them): rows first, in
    // their own transaction (a row inserted but not yet opted in is just materialised early)
    const rowless = ids.filter((id) => views.get(id) === 'not_in_population');
    if (rowless.length > 0) {
      const buckets = rowless.map((id) => bucketOf(flag.salt, String(id)));
      await this.prisma.directTransaction((q) => this.repo.insertMissing(q, c.id, c.populationFilter, rowless, buckets));
      // applied again even when nothing was inserted: materialisation may have written the rows meanwhile
      const again = await this.repo.apply(direct, group(rowless));
      for (const [id, v] of again.views) views.set(id, v);
      if (again.batch) batches.push(again.batch);
    }
    await this.enqueue(c, batches);
    return items.map((i) => answerOf(c, i.userId, views.get(i.userId)));
  }

  private async enqueue(c: Campaign, batches: readonly BatchRef[]): Promise<void> {
    if (batches.length === 0) return;
    // committed: a batch whose job could not be added is found and queued by the planner
    // (PlannerService.ensureJobs), so the callers still get their answers
    await this.batches.enqueue(c.id, c.pacing.maxAttempts, batches).catch((err: unknown) => {
      this.log.warn(`opt-in batches ${batches.map((b) => b.id).join(', ')} of campaign ${c.key}: jobs not added now (${(err as Error)?.message}); the planner adds them`);
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
