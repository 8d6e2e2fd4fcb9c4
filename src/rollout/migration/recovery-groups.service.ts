import { Inject, Injectable } from '@nestjs/common';
import { CampaignsService } from '../campaigns/campaigns.service';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { AuditService } from '../../core/audit/audit.service';
import type { Actor } from '../../core/auth/auth.types';
import { GroupCommit } from '../../core/database/group-commit';
import { PrismaService } from '../../core/database/prisma.service';
import { ConflictError } from '../../core/errors/domain-error';
import type { Prisma } from '../../generated/prisma/client';
import { RecoveryGroupRepository, type RecoveryRow } from './recovery-group.repository';

export interface RecoveryAnswer {
  userId: string;
  campaigns: Array<{ campaignId: string; recoveryState: 'set'; recoveryMethod: string; changed: boolean }>;
}

interface RecoveryReport {
  userId: bigint;
  method: string;
  campaignRef: string | undefined;
  actor: Actor;
}

const ALL_CAMPAIGNS = '*';

/**
 * Recovery reports, group-committed like opt-ins (OptInGroups): the reports that arrive
 * together for the same campaign (or for all campaigns) are applied by ONE statement on the
 * direct pg path: the rows, their counters and an audit row per change.
 */
@Injectable()
export class RecoveryGroups {
  private readonly groups: GroupCommit<RecoveryReport, RecoveryAnswer>;

  constructor(
    private readonly prisma: PrismaService,
    private readonly repo: RecoveryGroupRepository,
    private readonly campaigns: CampaignsService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const { windowMs, maxSize } = config.migration.groupCommit;
    this.groups = new GroupCommit({ windowMs, maxSize, conflict: (r) => String(r.userId), apply: (key, items) => this.apply(key, items) });
  }

  report(userId: bigint, method: string, campaignRef: string | undefined, actor: Actor): Promise<RecoveryAnswer> {
    return this.groups.submit(campaignRef ?? ALL_CAMPAIGNS, { userId, method, campaignRef, actor });
  }

  private async apply(key: string, items: readonly RecoveryReport[]): Promise<Array<RecoveryAnswer | Error>> {
    const campaign = key === ALL_CAMPAIGNS ? null : await this.campaigns.get(key).catch((err: unknown) => err as Error);
    if (campaign instanceof Error) return items.map(() => campaign);
    const audit = { actors: this.audit.actorsOf(items), insertFrom: (source: Prisma.Sql) => this.audit.insertFrom(source) };
    const rows = await this.repo.setRecovery((sql) => this.prisma.direct(sql), items, campaign?.id ?? null, audit);
    const byUser = new Map<bigint, RecoveryRow[]>();
    for (const r of rows) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
    return items.map((i) => answerOf(i, byUser.get(i.userId) ?? []));
  }
}

function answerOf(report: RecoveryReport, rows: readonly RecoveryRow[]): RecoveryAnswer | Error {
  if (rows.length === 0) {
    const where = report.campaignRef ? `campaign ${report.campaignRef}` : 'any campaign';
    return new ConflictError('recovery.user_not_enabled', `user ${report.userId} is not enabled in ${where}; recovery is set up after enablement`);
  }
  const sorted = [...rows].sort((a, b) => (a.campaignId < b.campaignId ? -1 : 1));
  return { userId: String(report.userId), campaigns: sorted.map((r) => ({ campaignId: String(r.campaignId), recoveryState: 'set', recoveryMethod: report.method, changed: r.changed })) };
}
