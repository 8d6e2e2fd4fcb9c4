import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { AuditService } from '../../core/audit/audit.service';
import type { Actor } from '../../core/auth/auth.types';
import { ConflictError, NotFoundError } from '../../core/errors/domain-error';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES } from '../../core/queue/queue.constants';
import { batchJobSpec } from './campaign-jobs';
import { CampaignsService } from './campaigns.service';
import type { Campaign, PopulationFilter } from './campaigns.types';
import { HoldsRepository, type HoldView } from './holds.repository';
import { RAMP_ACTOR } from './ramp.service';

export interface HoldResult {
  hold: HoldView;
  /** false when an active hold with the same filter already existed (a repeated request) */
  created: boolean;
  byState: Record<string, number>;
}

/**
 * Operator holds over part of a campaign's population (a jurisdiction, a platform). Placing
 * one moves matching users who are not enabled to `held` in one statement; the batch claim
 * takes only `eligible` users and the planner admits only `legacy` ones, so held users are
 * skipped by construction. Releasing admits them again.
 */
@Injectable()
export class HoldsService {
  constructor(
    private readonly repo: HoldsRepository,
    private readonly campaigns: CampaignsService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(ref: string, input: { filter: PopulationFilter; reason: string }, actor: Actor): Promise<HoldResult> {
    const c = await this.campaigns.get(ref);
    if (c.status === 'completed') throw new ConflictError('hold.campaign_completed', `campaign ${c.key} is completed; there is nobody left to hold`);
    return this.repo.prisma.transaction(async (tx) => {
      await this.repo.serialize(c.id, tx);
      const same = await this.repo.findActiveSame(c.id, input.filter, tx);
      if (same) return { hold: same, created: false, byState: {} };
      const id = await this.repo.insert({ campaignId: c.id, filter: input.filter, reason: input.reason, createdBy: actor.name }, tx);
      const byState = await this.repo.apply(c.id, id, input.filter, tx);
      const hold = (await this.repo.find(c.id, id, tx))!;
      await this.audit.record(
        { actor, action: 'campaign.hold_placed', entityType: 'campaign', entityId: String(c.id), before: null, after: { holdId: id, filter: input.filter, heldCount: hold.heldCount, fromStates: byState }, reason: input.reason },
        tx,
      );
      return { hold, created: true, byState };
    }, 600_000);
  }

  async list(ref: string, includeReleased: boolean): Promise<HoldView[]> {
    const c = await this.campaigns.get(ref);
    return this.repo.list(c.id, includeReleased);
  }

  async get(ref: string, holdId: bigint): Promise<HoldView> {
    const c = await this.campaigns.get(ref);
    const h = await this.repo.find(c.id, holdId);
    if (!h) throw new NotFoundError('hold', holdId);
    return h;
  }

  /** Releasing a released hold answers with it as it is (safe to repeat). */
  async release(ref: string, holdId: bigint, actor: Actor, reason?: string): Promise<HoldResult> {
    const c = await this.campaigns.get(ref);
    const before = await this.get(String(c.id), holdId);
    if (before.releasedAt) return { hold: before, created: false, byState: {} };
    const result = await this.repo.prisma.transaction(async (tx) => {
      await this.repo.serialize(c.id, tx);
      if (!(await this.repo.markReleased(c.id, holdId, tx))) return null;
      let handedOver = 0;
      for (const other of (await this.repo.list(c.id, false, tx)).filter((h) => h.id !== holdId)) handedOver += await this.repo.handOver(c.id, holdId, other, tx);
      const { eligible, byState } = await this.repo.release(c.id, holdId, tx);
      const batches = eligible.length > 0 && c.status !== 'completed' && c.status !== 'draft'
        ? await this.repo.insertUserBatches(c.id, eligible, c.pacing.batchSize, c.status === 'halted' ? 'dropped' : 'queued', tx)
        : [];
      await this.audit.record(
        { actor, action: 'campaign.hold_released', entityType: 'campaign', entityId: String(c.id), before: { holdId, heldCount: before.heldCount }, after: { holdId, toStates: byState, stillHeldByOtherHolds: handedOver, batches: batches.length }, reason: reason ?? null },
        tx,
      );
      return { byState, batches };
    }, 600_000);
    if (result) await this.enqueue(c, result.batches);
    return { hold: await this.get(String(c.id), holdId), created: false, byState: result?.byState ?? {} };
  }

  /** A hold placed while materialisation ran is applied again to the rows inserted since. */
  async reapplyStale(campaignId: bigint): Promise<number> {
    let held = 0;
    for (const h of await this.repo.staleActive(campaignId)) {
      await this.repo.prisma.transaction(async (tx) => {
        await this.repo.serialize(campaignId, tx);
        // released since staleActive read it: nothing to apply
        if ((await this.repo.find(campaignId, h.id, tx))?.releasedAt) return;
        const byState = await this.repo.apply(campaignId, h.id, h.filter, tx);
        const n = Object.values(byState).reduce((a, b) => a + b, 0);
        held += n;
        if (n > 0) {
          await this.audit.record(
            { actor: RAMP_ACTOR, action: 'campaign.hold_reapplied', entityType: 'campaign', entityId: String(campaignId), before: null, after: { holdId: h.id, fromStates: byState }, reason: 'rows materialised after the hold was placed' },
            tx,
          );
        }
      }, 600_000);
    }
    return held;
  }

  private async enqueue(c: Campaign, batches: Array<{ id: bigint; queuedAtMs: number }>): Promise<void> {
    if (batches.length === 0 || (c.status !== 'running' && c.status !== 'paused')) return;
    const retry = { maxAttempts: c.pacing.maxAttempts, backoffMs: this.config.migration.retryBackoffMs };
    await this.jobs.addBulk(QUEUES.migration, batches.map((b) => batchJobSpec(c.id, b, retry)));
  }
}
