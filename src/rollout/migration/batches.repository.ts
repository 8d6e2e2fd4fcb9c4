import { Injectable } from '@nestjs/common';
import type { CampaignStatus, Pacing } from '../campaigns/campaigns.types';
import { PrismaService } from '../../core/database/prisma.service';
import { Prisma } from '../../generated/prisma/client';
import { bigintList, parseRecords } from '../../core/database/sql-lists';
import { randomShard } from './counters';
import { INELIGIBLE_REASON } from './planner.repository';
import { move } from '../state/migration-states';

/** How long a claim waits for a lock (the campaign row, its users' rows) before it parks. */
export const CLAIM_LOCK_TIMEOUT = '2s';

export interface BatchRow {
  id: bigint;
  campaignId: bigint;
  fromBucket: number;
  toBucket: number;
  userIds: bigint[];
  status: 'queued' | 'running' | 'done' | 'dropped';
}

export interface BatchCampaign {
  campaignStatus: CampaignStatus;
  key: string;
  flagId: bigint;
  paceUsersPerSecond: number;
  pacing: Pacing;
}

export interface ClaimedUser {
  userId: bigint;
  bucket: number;
  attempts: number;
}

export interface Outcome {
  userId: bigint;
  outcome: 'enabled' | 'transient' | 'permanent';
  reason: string | null;
}

export interface RecordResult {
  enabled: Array<{ userId: bigint; bucket: number }>;
  failed: number;
  retry: number;
  campaignStatus: CampaignStatus;
}

@Injectable()
export class BatchesRepository {
  constructor(readonly prisma: PrismaService) {}

  /** The batch and what the migrator needs of its campaign, in one read. */
  async find(batchId: bigint): Promise<(BatchRow & { campaign: BatchCampaign }) | null> {
    // the per-batch statements of this repository go past Prisma's query layer (`direct`):
    // ids come back as text
    const [r] = await this.prisma.direct<Omit<BatchRow, 'id' | 'campaignId' | 'userIds'> & Omit<BatchCampaign, 'flagId'> & {
      id: string;
      campaignId: string;
      flagId: string;
      userIds: string | null;
    }>(Prisma.sql`
      SELECT b.id::text, b.campaign_id::text AS "campaignId", b.from_bucket AS "fromBucket", b.to_bucket AS "toBucket", array_to_string(b.user_ids, ',') AS "userIds",
             b.status::text AS status, c.status::text AS "campaignStatus", c.key, c.flag_id::text AS "flagId",
             c.pace_users_per_second AS "paceUsersPerSecond", c.pacing
      FROM migration_batches b JOIN campaigns c ON c.id = b.campaign_id WHERE b.id = ${batchId}`);
    if (!r) return null;
    const campaign: BatchCampaign = { campaignStatus: r.campaignStatus, key: r.key, flagId: BigInt(r.flagId), paceUsersPerSecond: r.paceUsersPerSecond, pacing: r.pacing };
    return {
      id: BigInt(r.id),
      campaignId: BigInt(r.campaignId),
      fromBucket: r.fromBucket,
      toBucket: r.toBucket,
      userIds: r.userIds ? r.userIds.split(',').map(BigInt) : [],
      status: r.status,
      campaign,
    };
  }

  /**
   * THE claim: one statement moves the batch's users to `enrolling` with a lease, only while
   * the campaign is running. `FOR SHARE` on the campaign row orders every claim strictly
   * before or after a halt: a claim that commits, committed before the halt did; the batch's
   * `started_at` is when the claim took that lock (a long claim that ends after the halt
   * stamped `halted_at` still locked before it). Counters and the batch row change in the
   * same statement.
   *
   * A batch of explicit users (opt-in, reaper, retry) takes its `eligible` users. A range
   * batch of the ramp also ADMITS: its `legacy` users below the planning ceiling become
   * `enrolling` (capable) or `ineligible` with the reason (not capable) right here, so that
   * each user is written twice on the way to `enabled` (claim, record) instead of three times
   * (admit, claim, record); its `eligible` users (transient failures back for a retry) are
   * taken as well. The ceiling check makes a lowered step stop admitting at once.
   */
  async claim(b: BatchRow, leaseMs: number): Promise<ClaimedUser[]> {
    // The claim holds FOR SHARE on the campaign row and a halt waits for every such claim, so a
    // claim blocked on user rows (a large hold being placed) gives up after CLAIM_LOCK_TIMEOUT
    // (55P03, nothing written) rather than keep the halt waiting; the caller parks the batch.
    const [r] = await this.prisma.directInTransaction<{ users: string | null }>(
      { lock_timeout: CLAIM_LOCK_TIMEOUT },
      b.userIds.length > 0 ? claimUsers(b, leaseMs) : claimRange(b, leaseMs),
    );
    return parseClaimed(r?.users ?? null);
  }

  /**
   * Records every outcome of one backend call in ONE statement (atomic, one round trip):
   * compare-and-set on `state = 'enrolling'` (a row the reaper already handed back is left
   * alone); `enabled` is terminal and prompts for recovery; permanent failures and exhausted
   * attempts are `failed` with the reason; other transient failures go back to `eligible`.
   * The counter deltas, the batch row and — after a halt — halt_to_last_commit_ms change in
   * the same statement. The campaign row is only read on a running campaign (claims hold
   * FOR SHARE on it); last_enabled_at is refreshed at most once a second, skipped when busy.
   */
  async record(b: BatchRow, outcomes: readonly Outcome[], meta: { maxAttempts: number; backendMs: number; backendErrors: number }): Promise<RecordResult> {
    // outcomes travel as text (core/database/sql-lists.ts): the enabled users' ids, and the
    // failures (usually few) as JSON with their reasons
    const ids = bigintList(outcomes.map((o) => o.userId));
    const enabledIds = bigintList(outcomes.filter((o) => o.outcome === 'enabled').map((o) => o.userId));
    const failures = JSON.stringify(outcomes.filter((o) => o.outcome !== 'enabled').map((o) => ({ u: o.userId.toString(), o: o.outcome, r: o.reason })));
    const [r] = await this.prisma.direct<{ campaignStatus: CampaignStatus; e: number; f: number; r: number; enabled: string | null }>(Prisma.sql`
      WITH o AS (
        SELECT user_id, ${OUTCOME_ENABLED} AS outcome, NULL::text AS reason FROM unnest(${enabledIds}::bigint[]) AS user_id
        UNION ALL
        SELECT u, o, r FROM jsonb_to_recordset(${failures}::jsonb) AS f(u bigint, o text, r text)),
      upd AS (
        UPDATE user_migrations um SET
          state = (CASE WHEN o.outcome = ${OUTCOME_ENABLED} THEN ${RECORD.to.enabled} WHEN o.outcome = 'permanent' OR um.attempts >= ${meta.maxAttempts} THEN ${RECORD.to.failed} ELSE ${RECORD.to.eligible} END)::migration_state,
          enabled_at = CASE WHEN o.outcome = ${OUTCOME_ENABLED} THEN clock_timestamp() ELSE um.enabled_at END,
          recovery_state = CASE WHEN o.outcome = ${OUTCOME_ENABLED} THEN 'prompted'::recovery_state ELSE um.recovery_state END,
          last_error = CASE WHEN o.outcome = ${OUTCOME_ENABLED} THEN NULL ELSE o.reason END,
          lease_until = NULL, updated_at = clock_timestamp()
        FROM o
        -- the state is compared with a sub-select so that the planner cannot estimate it from
        -- statistics: \`enrolling\` is transient, so statistics taken before a run say "no such
        -- rows" and the planner then scanned the table once per outcome (a nested loop: 6-7 s
        -- per 2,000-user batch at 100k users). \`user_id = ANY\` offers the primary key's index.
        WHERE um.campaign_id = ${b.campaignId} AND um.user_id = o.user_id AND um.user_id = ANY(${ids}::bigint[])
          AND um.state = (SELECT ${RECORD.from.enrolling}::migration_state)
        RETURNING um.user_id, um.bucket, um.state),
      agg AS (
        SELECT count(*)::int AS n, (count(*) FILTER (WHERE state = ${RECORD.to.enabled}))::int AS e, (count(*) FILTER (WHERE state = ${RECORD.to.failed}))::int AS f,
               (count(*) FILTER (WHERE state = ${RECORD.to.eligible}))::int AS r FROM upd),
      camp AS (SELECT status, (last_enabled_at IS NULL OR last_enabled_at < clock_timestamp() - interval '1 second') AS stale FROM campaigns WHERE id = ${b.campaignId}),
      cnt AS (
        UPDATE progress_counters SET enrolling = enrolling - agg.n, enabled = enabled + agg.e, failed = failed + agg.f,
          eligible = eligible + agg.r, recovery_prompted = recovery_prompted + agg.e
        FROM agg WHERE campaign_id = ${b.campaignId} AND shard = ${randomShard()} AND agg.n > 0),
      after_halt AS (
        UPDATE campaigns SET last_enabled_at = clock_timestamp(),
          halt_to_last_commit_ms = CASE WHEN campaigns.status = 'halted' AND campaigns.halted_at IS NOT NULL
            THEN greatest(coalesce(campaigns.halt_to_last_commit_ms, 0), ceil(extract(epoch FROM clock_timestamp() - campaigns.halted_at) * 1000)::int)
            ELSE campaigns.halt_to_last_commit_ms END
        FROM agg, camp WHERE campaigns.id = ${b.campaignId} AND agg.e > 0 AND camp.status <> 'running'),
      running_touch AS (
        UPDATE campaigns SET last_enabled_at = clock_timestamp()
        FROM agg, camp WHERE agg.e > 0 AND camp.status = 'running' AND camp.stale
          AND campaigns.id = (SELECT id FROM campaigns WHERE id = ${b.campaignId} FOR NO KEY UPDATE SKIP LOCKED)),
      bat AS (
        UPDATE migration_batches SET
          status = (CASE WHEN agg.r = 0 THEN 'done' WHEN camp.status IN ('halted', 'completed') THEN 'dropped' ELSE 'queued' END)::batch_status,
          enabled = enabled + agg.e, failed = failed + agg.f, retried = retried + agg.r,
          backend_ms = coalesce(backend_ms, 0) + ${meta.backendMs}, backend_errors = backend_errors + ${meta.backendErrors},
          finished_at = CASE WHEN agg.r = 0 OR camp.status IN ('halted', 'completed') THEN clock_timestamp() ELSE NULL END
        -- a late record whose rows the reaper already handed back (agg.n = 0) must not close the
        -- batch it requeued: its users would stay eligible with no batch to carry them
        FROM agg, camp WHERE id = ${b.id} AND (agg.n > 0 OR migration_batches.status <> 'queued'))
      SELECT camp.status::text AS "campaignStatus", agg.e, agg.f, agg.r,
        (SELECT string_agg(user_id::text || ':' || bucket::text, ',') FROM upd WHERE state = ${RECORD.to.enabled}) AS enabled
      FROM agg, camp`);
    return {
      enabled: parseRecords(r.enabled).map(([userId, bucket]) => ({ userId: BigInt(userId), bucket: Number(bucket) })),
      failed: r.f,
      retry: r.r,
      campaignStatus: r.campaignStatus,
    };
  }

  /** A job found nothing to claim: a batch nobody else is running is finished. */
  async finishIfIdle(batchId: bigint, status: 'done' | 'dropped'): Promise<void> {
    await this.prisma.direct(Prisma.sql`
      UPDATE migration_batches SET status = ${status}::batch_status, finished_at = clock_timestamp()
      WHERE id = ${batchId} AND status = 'queued'`);
  }
}

function claimUsers(b: BatchRow, leaseMs: number): Prisma.Sql {
  // one text row instead of a row per user: see core/database/sql-lists.ts
  return Prisma.sql`
    WITH c AS (SELECT id, clock_timestamp() AS locked_at FROM campaigns WHERE id = ${b.campaignId} AND status = 'running' FOR SHARE),
    claimed AS (${takeEligible(b, leaseMs)}),
    n AS (SELECT count(*) AS n FROM claimed),
    cnt AS (
      UPDATE progress_counters SET eligible = eligible - n.n, enrolling = enrolling + n.n FROM n
      WHERE campaign_id = ${b.campaignId} AND shard = ${randomShard()} AND n.n > 0),
    bat AS (
      UPDATE migration_batches SET status = 'running', started_at = (SELECT locked_at FROM c), claimed = claimed + n.n FROM n
      WHERE id = ${b.id} AND n.n > 0)
    SELECT string_agg(user_id::text || ':' || bucket::text || ':' || attempts::text, ',') AS users FROM claimed`;
}

/**
 * A row's capability: its own copy, or users' for a row the data backfill has not reached yet
 * (COALESCE evaluates the lookup only then).
 */
/** The backend's outcome for a user it set up (the other outcomes arrive as JSON). */
const OUTCOME_ENABLED = Prisma.raw("'enabled'");
const RECORD = move('record a batch', { enrolling: ['enabled', 'failed', 'eligible'] });
const CLAIM = move('claim a range', { legacy: ['enrolling', 'ineligible'] });
const RETAKE = move('claim retried users', { eligible: ['enrolling'] });

const CAPABLE = Prisma.sql`coalesce(um.e2ee_capable, (SELECT u.e2ee_capable FROM users u WHERE u.id = um.user_id))`;

function claimRange(b: BatchRow, leaseMs: number): Prisma.Sql {
  // capability from the row's own copy of users.e2ee_capable: a users lookup per user would
  // double the pages a claim touches. ONE update admits the range's legacy users (capable ones
  // become `enrolling`, the others `ineligible` with the reason), reading the range once. The
  // eligible ones (retries, reaped users) are taken by a second update; the two touch disjoint
  // rows, seen in the statement's one snapshot.
  return Prisma.sql`
    WITH c AS (
      SELECT cp.id, cp.planned_ppm, CASE WHEN cp.current_step >= 0 THEN cp.current_step END::smallint AS step, f.version AS flag_version,
             clock_timestamp() AS locked_at
      FROM campaigns cp JOIN flags f ON f.id = cp.flag_id WHERE cp.id = ${b.campaignId} AND cp.status = 'running' FOR SHARE OF cp),
    admitted AS (
      UPDATE user_migrations um SET
        state = (CASE WHEN ${CAPABLE} THEN ${CLAIM.to.enrolling} ELSE ${CLAIM.to.ineligible} END)::migration_state,
        attempts = CASE WHEN ${CAPABLE} THEN um.attempts + 1 ELSE um.attempts END,
        lease_until = CASE WHEN ${CAPABLE} THEN clock_timestamp() + ${leaseMs} * interval '1 millisecond' ELSE um.lease_until END,
        last_error = CASE WHEN ${CAPABLE} THEN NULL ELSE ${INELIGIBLE_REASON} END,
        admitted_at = clock_timestamp(), enrolled_via = 'ramp', flag_version = c.flag_version, enrolled_step = c.step, updated_at = clock_timestamp()
      FROM c
      WHERE um.campaign_id = c.id AND ${batchRows(b, 'um')} AND um.bucket < c.planned_ppm AND um.state = ${CLAIM.from.legacy}
      RETURNING um.user_id, um.bucket, um.attempts, um.state),
    retried AS (${takeEligible(b, leaseMs)}),
    n AS (
      SELECT (SELECT count(*) FROM admitted WHERE state = ${CLAIM.to.enrolling}) AS a, (SELECT count(*) FROM admitted WHERE state = ${CLAIM.to.ineligible}) AS i,
             (SELECT count(*) FROM retried) AS r),
    cnt AS (
      UPDATE progress_counters SET legacy = legacy - n.a - n.i, ineligible = ineligible + n.i, eligible = eligible - n.r, enrolling = enrolling + n.a + n.r
      FROM n WHERE campaign_id = ${b.campaignId} AND shard = ${randomShard()} AND n.a + n.i + n.r > 0),
    bat AS (
      UPDATE migration_batches SET status = 'running', started_at = (SELECT locked_at FROM c), claimed = claimed + n.a + n.r FROM n
      WHERE id = ${b.id} AND n.a + n.r > 0)
    SELECT string_agg(user_id::text || ':' || bucket::text || ':' || attempts::text, ',') AS users
    FROM (SELECT user_id, bucket, attempts FROM admitted WHERE state = ${CLAIM.to.enrolling} UNION ALL SELECT * FROM retried) claimed`;
}

/** The claim's CTE body for the batch's `eligible` users (a CTE `c` holds the campaign row). */
function takeEligible(b: BatchRow, leaseMs: number): Prisma.Sql {
  return Prisma.sql`
    UPDATE user_migrations um SET state = ${RETAKE.to.enrolling}, attempts = um.attempts + 1,
      lease_until = clock_timestamp() + ${leaseMs} * interval '1 millisecond', updated_at = clock_timestamp()
    FROM c
    WHERE um.campaign_id = c.id AND ${batchRows(b, 'um')} AND um.state = ${RETAKE.from.eligible}
    RETURNING um.user_id, um.bucket, um.attempts`;
}

function parseClaimed(text: string | null): ClaimedUser[] {
  return parseRecords(text).map(([userId, bucket, attempts]) => ({ userId: BigInt(userId), bucket: Number(bucket), attempts: Number(attempts) }));
}

/**
 * The rows of a batch: its bucket range (the (campaign_id, bucket) index), or for a batch of
 * explicit users (opt-in, reaper, retry) their ids (the primary key). One generic condition
 * for both (`cardinality(ids) = 0 OR user_id = ANY(ids)` over the range [0, 1000000)) made
 * every claim of an opt-in batch read the whole campaign through the bucket index.
 */
export function batchRows(b: { fromBucket: number; toBucket: number; userIds: readonly bigint[] }, alias: string): Prisma.Sql {
  const t = Prisma.raw(alias);
  return b.userIds.length > 0
    ? Prisma.sql`${t}.user_id = ANY(${bigintList(b.userIds)}::bigint[])`
    : Prisma.sql`${t}.bucket >= ${b.fromBucket} AND ${t}.bucket < ${b.toBucket}`;
}
