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
}
