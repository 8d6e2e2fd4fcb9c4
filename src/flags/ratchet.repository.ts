import { Injectable } from '@nestjs/common';
import { PrismaService } from '../core/database/prisma.service';

export interface EnabledUser {
  userId: bigint;
  bucket: number;
}

/** Reads PostgreSQL's truth about enabled users, to rebuild the ratchet when Redis lost it. */
@Injectable()
export class RatchetRepository {
  constructor(private readonly prisma: PrismaService) {}

  async campaignIdsOfFlag(flagId: bigint): Promise<bigint[]> {
    const rows = await this.prisma.client.campaign.findMany({ where: { flagId }, select: { id: true }, orderBy: { id: 'asc' } });
    return rows.map((r) => r.id);
  }

  /** Keyset page over the primary key (campaign_id, user_id). */
  async enabledUsersPage(campaignId: bigint, afterUserId: bigint, limit: number): Promise<EnabledUser[]> {
    return this.prisma.client.$queryRaw<EnabledUser[]>`
      SELECT user_id AS "userId", bucket FROM user_migrations
      WHERE campaign_id = ${campaignId} AND user_id > ${afterUserId} AND state = 'enabled'
      ORDER BY user_id LIMIT ${limit}`;
  }

  /** Which of these users are enabled in any campaign of the flag (primary-key lookups). */
  async enabledAmong(flagId: bigint, userIds: readonly bigint[]): Promise<Set<bigint>> {
    const rows = await this.prisma.client.$queryRaw<Array<{ userId: bigint }>>`
      SELECT DISTINCT um.user_id AS "userId" FROM campaigns c
      JOIN user_migrations um ON um.campaign_id = c.id AND um.user_id = ANY(${userIds as bigint[]}::bigint[])
      WHERE c.flag_id = ${flagId} AND um.state = 'enabled'`;
    return new Set(rows.map((r) => r.userId));
  }

  /**
   * The buckets that may hold enabled users of the flag, from the batch records rather than a
   * scan of user_migrations: everything below the highest range batch that enabled someone
   * (a lowered ceiling leaves enabled users above planned_ppm, never above their batch), and
   * the buckets of users that list batches (opt-ins, reaper, retries) enabled.
   */
  async occupiedBuckets(flagId: bigint): Promise<{ rangeBelow: number; buckets: number[] }> {
    const [range] = await this.prisma.client.$queryRaw<Array<{ below: number | null }>>`
      SELECT max(b.to_bucket) AS below FROM campaigns c JOIN migration_batches b ON b.campaign_id = c.id
      WHERE c.flag_id = ${flagId} AND b.enabled > 0 AND cardinality(b.user_ids) = 0`;
    const listed = await this.prisma.client.$queryRaw<Array<{ bucket: number }>>`
      SELECT DISTINCT um.bucket FROM campaigns c
      JOIN migration_batches b ON b.campaign_id = c.id AND b.enabled > 0 AND cardinality(b.user_ids) > 0
      CROSS JOIN LATERAL unnest(b.user_ids) AS u(id)
      JOIN user_migrations um ON um.campaign_id = c.id AND um.user_id = u.id
      WHERE c.flag_id = ${flagId} AND um.state = 'enabled'`;
    return { rangeBelow: range?.below ?? 0, buckets: listed.map((r) => r.bucket) };
  }
}
