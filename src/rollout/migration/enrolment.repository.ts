import { Injectable } from '@nestjs/common';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import { addCounters } from './counters';
import { INELIGIBLE_REASON } from './planner.repository';
import { move } from '../state/migration-states';

const RETRY_FAILED = move('retry failed users', { failed: ['eligible'] });
const REASSESS = move('reassess capability', { ineligible: ['eligible'], eligible: ['ineligible'] });

export interface UserMigrationView {
  campaignId: bigint;
  userId: bigint;
  bucket: number;
  state: string;
  attempts: number;
  lastError: string | null;
  enrolledVia: string | null;
  recoveryState: string;
  recoveryMethod: string | null;
  admittedAt: Date | null;
  enabledAt: Date | null;
}


@Injectable()
export class EnrolmentRepository {
  constructor(readonly prisma: PrismaService) {}

  /** failed → eligible (attempts reset) for one bucket chunk; returns the users moved. */
  async retryFailed(campaignId: bigint, fromPpm: number, toPpm: number, db: Db): Promise<bigint[]> {
    const rows = await db.$queryRaw<Array<{ userId: bigint }>>`
      UPDATE user_migrations SET state = ${RETRY_FAILED.to.eligible}, attempts = 0, last_error = NULL, updated_at = clock_timestamp()
      WHERE campaign_id = ${campaignId} AND bucket >= ${fromPpm} AND bucket < ${toPpm} AND state = ${RETRY_FAILED.from.failed}
      RETURNING user_id AS "userId"`;
    await addCounters(db, campaignId, { failed: -rows.length, eligible: rows.length });
    return rows.map((r) => r.userId);
  }

  /**
   * After an attribute change: ineligible users who are capable now and admitted (their
   * bucket is planned, or they opted in) become eligible; eligible users who are not capable
   * any more become ineligible. Campaigns that take users only.
   */
  async reassess(userIds: readonly bigint[], db: Db): Promise<Array<{ campaignId: bigint; userId: bigint; state: string }>> {
    // the rows' copy of the capability first (PATCH and import keep it in step; this also
    // mends a row that materialisation inserted from a read taken before a concurrent change)
    // (and the bins of the bucket histograms, which capability floors read)
    await db.$executeRaw`
      WITH copies AS (
        UPDATE user_migrations um SET e2ee_capable = u.e2ee_capable
        FROM users u, campaigns c
        WHERE um.campaign_id = c.id AND um.user_id = ANY(${userIds}::bigint[]) AND u.id = um.user_id AND um.e2ee_capable IS DISTINCT FROM u.e2ee_capable
        RETURNING um.campaign_id, um.bucket, um.e2ee_capable AS capable)
      UPDATE bucket_histograms h SET capable = h.capable + d.delta
      FROM (SELECT campaign_id, bucket / 1000 AS bin, sum(CASE WHEN capable THEN 1 ELSE -1 END) AS delta FROM copies GROUP BY 1, 2) d
      WHERE h.campaign_id = d.campaign_id AND h.bin = d.bin`;
    const rows = await db.$queryRaw<Array<{ campaignId: bigint; userId: bigint; state: string }>>`
      UPDATE user_migrations um SET
        state = (CASE WHEN u.e2ee_capable THEN ${REASSESS.to.eligible} ELSE ${REASSESS.to.ineligible} END)::migration_state,
        last_error = CASE WHEN u.e2ee_capable THEN NULL ELSE ${INELIGIBLE_REASON} END, updated_at = clock_timestamp()
      FROM users u, campaigns c
      WHERE c.status IN ('running', 'paused') AND um.campaign_id = c.id AND um.user_id = ANY(${userIds}::bigint[]) AND u.id = um.user_id
        AND ((um.state = ${REASSESS.from.ineligible} AND u.e2ee_capable AND (um.bucket < c.planned_ppm OR um.enrolled_via = 'opt_in'))
          OR (um.state = ${REASSESS.from.eligible} AND NOT u.e2ee_capable))
      RETURNING um.campaign_id AS "campaignId", um.user_id AS "userId", um.state::text AS state`;
    const byCampaign = new Map<bigint, number>();
    for (const r of rows) byCampaign.set(r.campaignId, (byCampaign.get(r.campaignId) ?? 0) + (r.state === 'eligible' ? 1 : -1));
    for (const [campaignId] of byCampaign) {
      const up = rows.filter((r) => r.campaignId === campaignId && r.state === 'eligible').length;
      const down = rows.filter((r) => r.campaignId === campaignId && r.state === 'ineligible').length;
      await addCounters(db, campaignId, { eligible: up - down, ineligible: down - up });
    }
    return rows;
  }

}
