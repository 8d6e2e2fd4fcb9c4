import { Injectable } from '@nestjs/common';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import type { BatchRef } from '../campaigns/campaigns.repository';
import { cutRanges, type BucketRange } from './range-cuts';
import { STATE_SQL } from '../state/migration-states';

export const INELIGIBLE_REASON = 'device cannot do E2EE yet';


@Injectable()
export class PlannerRepository {
  constructor(readonly prisma: PrismaService) {}

  /** Queued + running batches of the campaign (a small indexed table). */
  async backlog(campaignId: bigint): Promise<number> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ n: bigint }>>`
      SELECT count(*) AS n FROM migration_batches WHERE campaign_id = ${campaignId} AND status IN ('queued', 'running')`;
    return Number(r.n);
  }

  async queuedBatches(campaignId: bigint): Promise<BatchRef[]> {
    const rows = await this.prisma.client.$queryRaw<Array<{ id: bigint; queuedAt: Date }>>`
      SELECT id, queued_at AS "queuedAt" FROM migration_batches WHERE campaign_id = ${campaignId} AND status = 'queued' ORDER BY id LIMIT 1000`;
    return rows.map((r) => ({ id: r.id, queuedAtMs: r.queuedAt.getTime() }));
  }

  /** A queued batch gets a new queued_at, hence a new job id; null when it is no longer queued. */
  async requeue(batchId: bigint): Promise<BatchRef | null> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ id: bigint; queuedAt: Date }>>`
      UPDATE migration_batches SET queued_at = clock_timestamp() WHERE id = ${batchId} AND status = 'queued'
      RETURNING id, queued_at AS "queuedAt"`;
    return r ? { id: r.id, queuedAtMs: r.queuedAt.getTime() } : null;
  }

  /**
   * The next `count` batches of about `batchSize` LEGACY users in [from, admitted), reading
   * the bucket index from `from` on (work proportional to what is planned); [] when nobody
   * there is left to admit. Only legacy users count, since a range batch admits those when it
   * claims them (a range of users who are all enabled, held or opted in makes no batch).
   */
  async nextRanges(campaignId: bigint, from: number, admitted: number, batchSize: number, count: number): Promise<BucketRange[]> {
    const limit = batchSize * count + 1;
    const rows = await this.prisma.client.$queryRaw<Array<{ bucket: number; total: bigint }>>`
      SELECT bucket, total FROM (
        SELECT bucket, row_number() OVER (ORDER BY bucket) AS rn, count(*) OVER () AS total FROM (
          SELECT bucket FROM user_migrations WHERE campaign_id = ${campaignId} AND bucket >= ${from} AND bucket < ${admitted} AND state = ${STATE_SQL.legacy}
          ORDER BY bucket LIMIT ${limit}) s) t
      WHERE (rn - 1) % ${batchSize} = 0 ORDER BY rn`;
    return cutRanges(from, admitted, rows.map((r) => r.bucket), rows.length > 0 && Number(rows[0].total) === limit);
  }

  /**
   * Starts a planning round: one planner per campaign at a time (a transaction-scoped
   * advisory lock, keyed by namespace and campaign id), and only from the ceiling the caller
   * read. False when another planner holds the lock or has moved the ceiling: two planners
   * admitting the same range at once made their UPDATEs wait on (and deadlock with) the
   * claims of the batches the first one had just committed.
   */
  async beginRound(campaignId: bigint, plannedPpm: number, db: Db): Promise<boolean> {
    const [r] = await db.$queryRaw<Array<{ ok: boolean }>>`
      SELECT pg_try_advisory_xact_lock(hashtext('cutover.planner'), hashtext(${campaignId.toString()}))
        AND EXISTS (SELECT 1 FROM campaigns WHERE id = ${campaignId} AND planned_ppm = ${plannedPpm}) AS ok`;
    return r.ok;
  }

  /** Compare-and-set of the planning ceiling; false when another planner got there first. */
  async advancePlanned(campaignId: bigint, from: number, to: number, admitted: number, db: Db): Promise<boolean> {
    const n = await db.$executeRaw`
      UPDATE campaigns SET planned_ppm = ${to}, admitted_ppm = ${admitted}
      WHERE id = ${campaignId} AND planned_ppm = ${from} AND status = 'running' AND materialized_at IS NOT NULL`;
    return n === 1;
  }

  async setAdmitted(campaignId: bigint, admitted: number): Promise<void> {
    await this.prisma.client.$executeRaw`UPDATE campaigns SET admitted_ppm = ${admitted} WHERE id = ${campaignId} AND admitted_ppm <> ${admitted}`;
  }

  async insertBatches(campaignId: bigint, ranges: readonly BucketRange[], db: Db): Promise<BatchRef[]> {
    if (ranges.length === 0) return [];
    const rows = await db.$queryRaw<Array<{ id: bigint; queuedAt: Date }>>`
      INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, queued_at)
      SELECT ${campaignId}, f, t, clock_timestamp() FROM unnest(${ranges.map((r) => r.from)}::int[], ${ranges.map((r) => r.to)}::int[]) AS x(f, t)
      RETURNING id, queued_at AS "queuedAt"`;
    return rows.map((r) => ({ id: r.id, queuedAtMs: r.queuedAt.getTime() }));
  }

  /** A batch of explicit users (opt-in, reaper, reassessment, retry of failed users). */
  async insertUserBatch(campaignId: bigint, userIds: readonly bigint[], db: Db): Promise<BatchRef> {
    const [r] = await db.$queryRaw<Array<{ id: bigint; queuedAt: Date }>>`
      INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, user_ids, queued_at)
      VALUES (${campaignId}, 0, 1000000, ${userIds}::bigint[], clock_timestamp())
      RETURNING id, queued_at AS "queuedAt"`;
    return { id: r.id, queuedAtMs: r.queuedAt.getTime() };
  }
}
