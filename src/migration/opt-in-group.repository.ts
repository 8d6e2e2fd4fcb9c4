import { Injectable } from '@nestjs/common';
import type { BatchRef } from '../campaigns/campaigns.repository';
import type { PopulationFilter } from '../campaigns/campaigns.types';
import type { DirectQuery } from '../core/database/prisma.service';
import { bigintList, intList } from '../core/database/sql-lists';
import { Prisma } from '../generated/prisma/client';
import { randomShard } from './counters';
import type { UserMigrationView } from './enrolment.repository';
import { INELIGIBLE_REASON } from './planner.repository';
import { populationWhere } from './population-filter.sql';

/** A user of a group: their row in the campaign, or why there is none. */
export type GroupView = UserMigrationView | 'unknown_user' | 'not_in_population';

interface ViewRow {
  userId: string;
  known: boolean;
  bucket: number | null;
  state: string | null;
  attempts: number;
  lastError: string | null;
  enrolledVia: string | null;
  recoveryState: string;
  recoveryMethod: string | null;
  admittedAt: Date | null;
  enabledAt: Date | null;
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
   * rows (every group once the population is materialised) takes no lock here.
   */
  async insertMissing(q: DirectQuery, campaignId: bigint, filter: PopulationFilter, ids: readonly bigint[], buckets: readonly number[]): Promise<number> {
    const missing = await q<{ n: number }>(Prisma.sql`
      SELECT count(*)::int AS n FROM unnest(${bigintList(ids)}::bigint[]) AS x(id)
      WHERE NOT EXISTS (SELECT 1 FROM user_migrations um WHERE um.campaign_id = ${campaignId} AND um.user_id = x.id)`);
    if (missing[0].n === 0) return 0;
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
   * THE opt-in, for a whole group in one statement: legacy users (and ineligible ones who are
   * capable now) are admitted whatever the ramp says: eligible with enrolled_via = opt_in, or
   * ineligible with the reason. Counters change in the same statement. Returns who moved.
   */
  async optIn(q: DirectQuery, campaignId: bigint, ids: readonly bigint[], flagVersion: number): Promise<Array<{ userId: bigint; from: string; to: string }>> {
    const [r] = await q<{ moved: string | null }>(Prisma.sql`
      WITH old AS (
        SELECT user_id, state FROM user_migrations WHERE campaign_id = ${campaignId} AND user_id = ANY(${bigintList(ids)}::bigint[])
        ORDER BY user_id FOR UPDATE),
      upd AS (
        UPDATE user_migrations um SET
          state = (CASE WHEN u.e2ee_capable THEN 'eligible' ELSE 'ineligible' END)::migration_state,
          last_error = CASE WHEN u.e2ee_capable THEN NULL ELSE ${INELIGIBLE_REASON} END,
          enrolled_via = 'opt_in', admitted_at = coalesce(um.admitted_at, clock_timestamp()), flag_version = coalesce(um.flag_version, ${flagVersion}::int),
          updated_at = clock_timestamp()
        FROM users u, old
        WHERE um.campaign_id = ${campaignId} AND um.user_id = old.user_id AND u.id = um.user_id
          AND (um.state = 'legacy' OR (um.state = 'ineligible' AND u.e2ee_capable))
        RETURNING um.user_id, old.state::text AS "from", um.state::text AS "to"),
      d AS (
        SELECT (count(*) FILTER (WHERE "from" = 'legacy'))::int AS from_legacy, (count(*) FILTER (WHERE "from" = 'ineligible'))::int AS from_inel,
               (count(*) FILTER (WHERE "to" = 'eligible'))::int AS to_elig, (count(*) FILTER (WHERE "to" = 'ineligible'))::int AS to_inel, count(*) AS n
        FROM upd),
      cnt AS (
        UPDATE progress_counters SET legacy = legacy - d.from_legacy, ineligible = ineligible - d.from_inel + d.to_inel, eligible = eligible + d.to_elig
        FROM d WHERE campaign_id = ${campaignId} AND shard = ${randomShard()} AND d.n > 0)
      SELECT string_agg(user_id::text || ':' || "from" || ':' || "to", ',') AS moved FROM upd`);
    if (!r.moved) return [];
    return r.moved.split(',').map((m) => {
      const [userId, from, to] = m.split(':');
      return { userId: BigInt(userId), from, to };
    });
  }

  /** The group's admitted users as one batch of explicit users (enqueued after the commit). */
  async insertBatch(q: DirectQuery, campaignId: bigint, ids: readonly bigint[]): Promise<BatchRef> {
    const [r] = await q<{ id: string; queuedAt: Date }>(Prisma.sql`
      INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, user_ids, queued_at)
      VALUES (${campaignId}, 0, 1000000, ${bigintList(ids)}::bigint[], clock_timestamp())
      RETURNING id::text, queued_at AS "queuedAt"`);
    return { id: BigInt(r.id), queuedAtMs: r.queuedAt.getTime() };
  }

  /** Every user of the group as the answer shows them, read after the group's writes. */
  async views(q: DirectQuery, campaignId: bigint, ids: readonly bigint[]): Promise<Map<bigint, GroupView>> {
    const rows = await q<ViewRow>(Prisma.sql`
      SELECT x.id::text AS "userId", EXISTS (SELECT 1 FROM users WHERE id = x.id) AS known, um.bucket, um.state::text AS state,
             um.attempts::int AS attempts, um.last_error AS "lastError", um.enrolled_via::text AS "enrolledVia",
             um.recovery_state::text AS "recoveryState", um.recovery_method::text AS "recoveryMethod", um.admitted_at AS "admittedAt", um.enabled_at AS "enabledAt"
      FROM unnest(${bigintList(ids)}::bigint[]) AS x(id)
      LEFT JOIN user_migrations um ON um.campaign_id = ${campaignId} AND um.user_id = x.id`);
    const out = new Map<bigint, GroupView>();
    for (const r of rows) {
      const userId = BigInt(r.userId);
      if (r.state === null || r.bucket === null) out.set(userId, r.known ? 'not_in_population' : 'unknown_user');
      else {
        out.set(userId, {
          campaignId, userId, bucket: r.bucket, state: r.state, attempts: r.attempts, lastError: r.lastError, enrolledVia: r.enrolledVia,
          recoveryState: r.recoveryState, recoveryMethod: r.recoveryMethod, admittedAt: r.admittedAt, enabledAt: r.enabledAt,
        });
      }
    }
    return out;
  }
}
