import { Injectable } from '@nestjs/common';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { CampaignsService } from '../campaigns/campaigns.service';
import type { Actor } from '../../core/auth/auth.types';
import type { JobStatus } from '../../core/queue/queue.constants';
import { EnrolmentRepository, type UserMigrationView } from './enrolment.repository';
import { OptInGroups } from './opt-in-groups.service';
import { OptInRateLimiter } from './opt-in-rate-limiter';
import { RecoveryGroups, type RecoveryAnswer } from './recovery-groups.service';
import { UserBatches } from './user-batches.service';

/** Users entering a campaign outside the ramp: opt-ins and reassessment; recovery setup. Retries: RetryFailedService. */
@Injectable()
export class EnrolmentService {
  constructor(
    private readonly repo: EnrolmentRepository,
    private readonly optIns: OptInGroups,
    private readonly recoveries: RecoveryGroups,
    private readonly batches: UserBatches,
    private readonly campaigns: CampaignsService,
    private readonly rateLimiter: OptInRateLimiter,
  ) {}

  /**
   * Idempotent: a user already admitted (or further) is answered with their current state.
   * Applied in a group with the opt-ins that arrive at the same time (OptInGroups).
   */
  async optIn(ref: string, userId: bigint, actor: Actor): Promise<UserMigrationView> {
    await this.rateLimiter.check(userId);
    return this.optIns.optIn(ref, userId, actor);
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

  /** An enabled user's recovery method, in a group with the reports that arrive at the same time (RecoveryGroups). */
  setRecovery(userId: bigint, method: string, campaignRef: string | undefined, actor: Actor): Promise<RecoveryAnswer> {
    return this.recoveries.report(userId, method, campaignRef, actor);
  }
}
