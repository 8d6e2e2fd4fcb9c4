import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/database/prisma.service';
import { Prisma } from '../../generated/prisma/client';

/** The data backfills the workers know; each has a row in data_backfills from its migration. */
export const BACKFILLS = ['user_migrations.e2ee_capable'] as const;
export type BackfillName = (typeof BACKFILLS)[number];

/** Per backfill: the UPDATE of one keyset chunk `k` (campaign_id, user_id) of user_migrations. */
const COPY: Record<BackfillName, Prisma.Sql> = {
  'user_migrations.e2ee_capable': Prisma.sql`
    UPDATE user_migrations um SET e2ee_capable = u.e2ee_capable
    FROM k, users u
    WHERE um.campaign_id = k.campaign_id AND um.user_id = k.user_id AND u.id = um.user_id AND um.e2ee_capable IS NULL
    RETURNING 1`,
};

export interface OpenBackfill {
  name: BackfillName;
  /** where the next chunk starts, as `<campaign>-<user>` */
  position: string;
  updatedAtMs: number;
  started: boolean;
}

export interface ChunkResult {
  copied: number;
  rowsDone: bigint;
  position: string;
  done: boolean;
}

/** data_backfills, and the chunk statements that move a backfill forward. */
@Injectable()
export class BackfillRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Unfinished backfills that never ran, or whose last chunk is older than `idleMs` (their
   * chain of jobs broke: a job failed for good, or Redis lost it).
   */
  async open(idleMs: number): Promise<OpenBackfill[]> {
    const rows = await this.prisma.client.$queryRaw<Array<{ name: string; position: string; updatedAt: Date; started: boolean }>>`
      SELECT name, last_campaign_id::text || '-' || last_user_id::text AS position, updated_at AS "updatedAt", rows_done > 0 OR
             last_campaign_id > -9223372036854775808 AS started
      FROM data_backfills
      WHERE finished_at IS NULL AND name = ANY(${[...BACKFILLS]}::text[])
      ORDER BY name`;
    return rows
      .filter((r) => !r.started || r.updatedAt.getTime() < Date.now() - idleMs)
      .map((r) => ({ name: r.name as BackfillName, position: r.position, updatedAtMs: r.updatedAt.getTime(), started: r.started }));
  }

  /**
   * One chunk in one statement: the next `limit` keys after the recorded position, the copy
   * for those of them still NULL, and the new position, under a lock on the backfill's row
   * (so two jobs never take the same chunk). Null when the backfill is finished or unknown.
   */
  async chunk(name: BackfillName, limit: number): Promise<ChunkResult | null> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ copied: number; rowsDone: bigint; position: string; done: boolean }>>`
      WITH b AS (SELECT last_campaign_id, last_user_id FROM data_backfills WHERE name = ${name} AND finished_at IS NULL FOR UPDATE),
      k AS (
        SELECT um.campaign_id, um.user_id FROM b, user_migrations um
        WHERE (um.campaign_id, um.user_id) > (b.last_campaign_id, b.last_user_id)
        ORDER BY um.campaign_id, um.user_id LIMIT ${limit}),
      copied AS (${COPY[name]}),
      n AS (SELECT (SELECT count(*) FROM k) AS keys, (SELECT count(*) FROM copied) AS copied,
                   (SELECT campaign_id FROM k ORDER BY campaign_id DESC, user_id DESC LIMIT 1) AS c,
                   (SELECT user_id FROM k ORDER BY campaign_id DESC, user_id DESC LIMIT 1) AS u)
      UPDATE data_backfills d SET
        last_campaign_id = coalesce(n.c, d.last_campaign_id), last_user_id = coalesce(n.u, d.last_user_id),
        rows_done = d.rows_done + n.copied, updated_at = clock_timestamp(),
        finished_at = CASE WHEN n.keys < ${limit} THEN clock_timestamp() END
      FROM b, n WHERE d.name = ${name}
      RETURNING n.copied::int AS copied, d.rows_done AS "rowsDone", d.last_campaign_id::text || '-' || d.last_user_id::text AS position,
                d.finished_at IS NOT NULL AS done`;
    return r ?? null;
  }
}
