import { Injectable } from '@nestjs/common';
import type { BatchRef } from '../campaigns/campaigns.repository';
import type { PopulationFilter } from '../campaigns/campaigns.types';
import type { DirectQuery } from '../../core/database/prisma.service';
import { bigintList, intList } from '../../core/database/sql-lists';
import { Prisma } from '../../generated/prisma/client';
import { randomShard } from './counters';
import type { UserMigrationView } from './enrolment.repository';
import { INELIGIBLE_REASON } from './planner.repository';
import { populationWhere } from './population-filter.sql';
import { move } from '../state/migration-states';

const OPT_IN = move('opt-in', { legacy: ['eligible', 'ineligible'], ineligible: ['eligible'] });

/** One opt-in group of a campaign: its distinct users in id order, and how its audit rows are written. */
export interface OptInGroup {
  campaignId: bigint;
  ids: readonly bigint[];
  flagVersion: number;
  actors: Prisma.Sql;
  audit: (source: Prisma.Sql) => Prisma.Sql;
}

/** A user of a group: their row in the campaign, or why there is none. */
export type GroupView = UserMigrationView | 'unknown_user' | 'not_in_population';

/** A row as the group statement returns it: ids as text, and no row for an unknown user. */
interface ViewRow extends Omit<UserMigrationView, 'campaignId' | 'userId' | 'bucket' | 'state'> {
  userId: string;
  known: boolean;
  bucket: number | null;
  state: string | null;
}

/**
 * The set-based statements of an opt-in group (one direct transaction per group, see
 * OptInGroups): each statement takes the group's user ids as ONE bigint[] literal and touches
 * their rows in user-id order, so that two groups (two API replicas) lock rows in the same
 * order and never deadlock on each other.
 */
@Injectable()
export class OptInGroupRepository {
  /**
   * Users of the group without a row in the campaign yet (opt-ins before materialisation
   * reached them) get one, if they are in the population, counted like materialised rows.
   * Lock order as materialisation's chunks (MaterializeRepository.insertChunk): the campaign row
   * first, then user rows, histogram bins and counters. Taken the other way round an opt-in and
   * a chunk inserting the same user waited for each other (40P01). A group whose users all have
   * rows (every group once the population is materialised) never comes here: OptInGroups
   * calls this only for users `apply` found without a row, then applies them again.
   */
  async insertMissing(q: DirectQuery, campaignId: bigint, filter: PopulationFilter, ids: readonly bigint[], buckets: readonly number[]): Promise<number> {
    await q(Prisma.sql`SELECT 1 FROM campaigns WHERE id = ${campaignId} FOR NO KEY UPDATE`);
    const [r] = await q<{ n: number }>(Prisma.sql`
      WITH src AS (SELECT * FROM unnest(${bigintList(ids)}::bigint[], ${intList(buckets)}::int[]) AS s(user_id, bucket)),
      ins AS (
        INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable)
        SELECT ${campaignId}, u.id, src.bucket, u.e2ee_capable FROM src JOIN users u ON u.id = src.user_id
        WHERE ${populationWhere(filter)} ORDER BY u.id
        ON CONFLICT (campaign_id, user_id) DO NOTHING RETURNING user_id, bucket, e2ee_capable),
      bins AS (SELECT (bucket / 1000)::int AS bin, count(*) AS total, count(*) FILTER (WHERE e2ee_capable) AS capable FROM ins GROUP BY 1),
      hist AS (
        UPDATE bucket_histograms h SET total = h.total + bins.total, capable = h.capable + bins.capable
        FROM bins WHERE h.campaign_id = ${campaignId} AND h.bin = bins.bin),
      n AS (SELECT count(*)::int AS n FROM ins),
      pop AS (UPDATE campaigns SET population_size = population_size + n.n FROM n WHERE id = ${campaignId} AND n.n > 0),
      cnt AS (UPDATE progress_counters SET legacy = legacy + n.n FROM n WHERE campaign_id = ${campaignId} AND shard = ${randomShard()} AND n.n > 0)
      SELECT n FROM n`);
    return r.n;
  }

  /**
   * THE opt-in of a whole group in ONE statement (atomic on its own, one round trip): legacy
   * users (and ineligible ones who are capable now) are admitted whatever the ramp says:
   * eligible with enrolled_via = opt_in, or ineligible with the reason. In the same statement:
   * the counters, ONE batch of explicit users for those admitted, an audit row per user moved
   * (`audit` builds that insert; `actors` is the CTE of each user's actor), and every user's
   * row as the answer shows it (a statement's CTEs all see one snapshot, so the new values
   * come from the update's RETURNING, the others from the locked rows).
   */
  async apply(q: DirectQuery, g: OptInGroup): Promise<{ views: Map<bigint, GroupView>; batch: BatchRef | null }> {
    const { campaignId } = g;
    const ids = bigintList(g.ids);
    const rows = await q<ViewRow & { batchId: string | null; queuedAt: Date | null }>(Prisma.sql`
      WITH old AS (
        SELECT user_id, state, bucket, attempts, last_error, enrolled_via, recovery_state, recovery_method, admitted_at, enabled_at
        FROM user_migrations WHERE campaign_id = ${campaignId} AND user_id = ANY(${ids}::bigint[])
        ORDER BY user_id FOR UPDATE),
      upd AS (
        UPDATE user_migrations um SET
          state = (CASE WHEN u.e2ee_capable THEN ${OPT_IN.to.eligible} ELSE ${OPT_IN.to.ineligible} END)::migration_state,
          last_error = CASE WHEN u.e2ee_capable THEN NULL ELSE ${INELIGIBLE_REASON} END,
          enrolled_via = 'opt_in', admitted_at = coalesce(um.admitted_at, clock_timestamp()), flag_version = coalesce(um.flag_version, ${g.flagVersion}::int),
          updated_at = clock_timestamp()
        FROM users u, old
        WHERE um.campaign_id = ${campaignId} AND um.user_id = old.user_id AND u.id = um.user_id
          AND (um.state = ${OPT_IN.from.legacy} OR (um.state = ${OPT_IN.from.ineligible} AND u.e2ee_capable))
        RETURNING um.user_id, old.state::text AS "from", um.state::text AS "to", um.last_error, um.admitted_at),
      d AS (
        SELECT (count(*) FILTER (WHERE "from" = ${OPT_IN.from.legacy}))::int AS from_legacy, (count(*) FILTER (WHERE "from" = ${OPT_IN.from.ineligible}))::int AS from_inel,
               (count(*) FILTER (WHERE "to" = ${OPT_IN.to.eligible}))::int AS to_elig, (count(*) FILTER (WHERE "to" = ${OPT_IN.to.ineligible}))::int AS to_inel, count(*) AS n
        FROM upd),
      cnt AS (
        UPDATE progress_counters SET legacy = legacy - d.from_legacy, ineligible = ineligible - d.from_inel + d.to_inel, eligible = eligible + d.to_elig
        FROM d WHERE campaign_id = ${campaignId} AND shard = ${randomShard()} AND d.n > 0),
      bat AS (
        INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, user_ids, queued_at)
        SELECT ${campaignId}, 0, 1000000, array_agg(user_id ORDER BY user_id), clock_timestamp() FROM upd WHERE "to" = ${OPT_IN.to.eligible} HAVING count(*) > 0
        RETURNING id, queued_at),
      actors AS (${g.actors}),
      aud AS (${g.audit(Prisma.sql`
        SELECT a.id, a.name, a.role, 'campaign.user_opted_in', 'user_migration', ${`${campaignId}:`}::text || upd.user_id::text, jsonb_build_object('state', upd."from"),
               jsonb_build_object('state', upd."to"), NULL, a.rid
        FROM upd JOIN actors a ON a.u = upd.user_id`)})
      SELECT x.id::text AS "userId", EXISTS (SELECT 1 FROM users WHERE id = x.id) AS known, old.bucket,
             coalesce(upd."to", old.state::text) AS state, old.attempts::int AS attempts,
             CASE WHEN upd.user_id IS NULL THEN old.last_error ELSE upd.last_error END AS "lastError",
             CASE WHEN upd.user_id IS NULL THEN old.enrolled_via::text ELSE 'opt_in' END AS "enrolledVia",
             old.recovery_state::text AS "recoveryState", old.recovery_method::text AS "recoveryMethod",
             coalesce(upd.admitted_at, old.admitted_at) AS "admittedAt", old.enabled_at AS "enabledAt",
             (SELECT id::text FROM bat) AS "batchId", (SELECT queued_at FROM bat) AS "queuedAt"
      FROM unnest(${ids}::bigint[]) AS x(id) LEFT JOIN old ON old.user_id = x.id LEFT JOIN upd ON upd.user_id = x.id`);
    const views = new Map<bigint, GroupView>();
    for (const r of rows) views.set(BigInt(r.userId), viewOf(campaignId, r));
    const b = rows.find((r) => r.batchId !== null);
    return { views, batch: b ? { id: BigInt(b.batchId!), queuedAtMs: b.queuedAt!.getTime() } : null };
  }
}

function viewOf(campaignId: bigint, r: ViewRow): GroupView {
  if (r.state === null || r.bucket === null) return r.known ? 'not_in_population' : 'unknown_user';
  return {
    campaignId, userId: BigInt(r.userId), bucket: r.bucket, state: r.state, attempts: r.attempts, lastError: r.lastError, enrolledVia: r.enrolledVia,
    recoveryState: r.recoveryState, recoveryMethod: r.recoveryMethod, admittedAt: r.admittedAt, enabledAt: r.enabledAt,
  };
}
