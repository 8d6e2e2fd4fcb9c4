import { Injectable } from '@nestjs/common';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import { addCounters, type CounterColumn } from './counters';
import { INELIGIBLE_REASON } from './planner.repository';
import { move, STATE_SQL } from '../state/migration-states';

const OPT_IN = move('opt-in', { legacy: ['eligible', 'ineligible'], ineligible: ['eligible'] });
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

export const RECOVERY_COLUMN: Record<string, CounterColumn> = {
  pin: 'recoveryPin',
  recovery_code: 'recoveryCode',
  cloud_backup: 'recoveryCloud',
  device_keychain: 'recoveryKeychain',
};

@Injectable()
export class EnrolmentRepository {
  constructor(readonly prisma: PrismaService) {}

  async find(campaignId: bigint, userId: bigint, db: Db = this.prisma.client): Promise<UserMigrationView | null> {
    const [r] = await db.$queryRaw<UserMigrationView[]>`
      SELECT campaign_id AS "campaignId", user_id AS "userId", bucket, state::text AS state, attempts::int AS attempts, last_error AS "lastError",
             enrolled_via::text AS "enrolledVia", recovery_state::text AS "recoveryState", recovery_method::text AS "recoveryMethod",
             admitted_at AS "admittedAt", enabled_at AS "enabledAt"
      FROM user_migrations WHERE campaign_id = ${campaignId} AND user_id = ${userId}`;
    return r ?? null;
  }

  async userExists(userId: bigint): Promise<boolean> {
    const rows = await this.prisma.client.$queryRaw<unknown[]>`SELECT 1 FROM users WHERE id = ${userId}`;
    return rows.length > 0;
  }

  /**
   * Opt-in: a legacy user (or an ineligible one who is capable now) is admitted whatever the
   * ramp says: eligible with enrolled_via = opt_in, or ineligible with the reason.
   */
  async optIn(campaignId: bigint, userId: bigint, flagVersion: number, db: Db): Promise<{ from: string; to: string } | null> {
    const [r] = await db.$queryRaw<Array<{ from: string; to: string }>>`
      WITH old AS (SELECT state FROM user_migrations WHERE campaign_id = ${campaignId} AND user_id = ${userId} FOR UPDATE)
      UPDATE user_migrations um SET
        state = (CASE WHEN u.e2ee_capable THEN ${OPT_IN.to.eligible} ELSE ${OPT_IN.to.ineligible} END)::migration_state,
        last_error = CASE WHEN u.e2ee_capable THEN NULL ELSE ${INELIGIBLE_REASON} END,
        enrolled_via = 'opt_in', admitted_at = coalesce(um.admitted_at, clock_timestamp()), flag_version = coalesce(um.flag_version, ${flagVersion}),
        updated_at = clock_timestamp()
      FROM users u, old
      WHERE um.campaign_id = ${campaignId} AND um.user_id = ${userId} AND u.id = um.user_id
        AND (um.state = ${OPT_IN.from.legacy} OR (um.state = ${OPT_IN.from.ineligible} AND u.e2ee_capable))
      RETURNING old.state::text AS "from", um.state::text AS "to"`;
    if (!r) return null;
    await addCounters(db, campaignId, { [r.from as CounterColumn]: -1, [r.to as CounterColumn]: 1 } as Record<CounterColumn, number>);
    return r;
  }

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

  /**
   * Sets an enabled user's recovery method in every campaign (or one) where they are
   * enabled. Campaign ids come from the small campaigns table so that each lookup is a
   * primary-key probe. Unchanged rows (same method again) are not rewritten.
   */
  async setRecovery(userId: bigint, method: string, campaignId: bigint | null, db: Db) {
    const rows = await db.$queryRaw<Array<{ campaignId: bigint; oldState: string; oldMethod: string | null; changed: boolean }>>`
      WITH old AS (
        SELECT um.campaign_id, um.recovery_state::text AS s, um.recovery_method::text AS m FROM user_migrations um
        WHERE (um.campaign_id, um.user_id) IN (SELECT id, ${userId}::bigint FROM campaigns WHERE ${campaignId}::bigint IS NULL OR id = ${campaignId}::bigint)
          AND um.state = ${STATE_SQL.enabled} FOR UPDATE),
      upd AS (
        UPDATE user_migrations um SET recovery_state = 'set', recovery_method = ${method}::recovery_method, updated_at = clock_timestamp()
        FROM old WHERE um.campaign_id = old.campaign_id AND um.user_id = ${userId} AND (old.s <> 'set' OR old.m IS DISTINCT FROM ${method})
        RETURNING um.campaign_id)
      SELECT old.campaign_id AS "campaignId", old.s AS "oldState", old.m AS "oldMethod", (upd.campaign_id IS NOT NULL) AS changed
      FROM old LEFT JOIN upd ON upd.campaign_id = old.campaign_id`;
    for (const r of rows.filter((x) => x.changed)) {
      const d: Partial<Record<CounterColumn, number>> = { [RECOVERY_COLUMN[method]]: 1 };
      if (r.oldState === 'prompted') d.recoveryPrompted = -1;
      if (r.oldState === 'set' && r.oldMethod) d[RECOVERY_COLUMN[r.oldMethod]] = (d[RECOVERY_COLUMN[r.oldMethod]] ?? 0) - 1;
      await addCounters(db, r.campaignId, d);
    }
    return rows;
  }
}
