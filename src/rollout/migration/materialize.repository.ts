import { Injectable } from '@nestjs/common';
import type { PopulationFilter } from '../campaigns/campaigns.types';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import { addCounters } from './counters';
import { populationWhere } from './population-filter.sql';

export interface PopulationChunk {
  ids: bigint[];
  capable: boolean[];
}

@Injectable()
export class MaterializeRepository {
  constructor(readonly prisma: PrismaService) {}

  /** The next users of the population after `cursor`, in id order (keyset). */
  async readUsers(filter: PopulationFilter, cursor: bigint, limit: number): Promise<PopulationChunk> {
    const rows = await this.prisma.client.$queryRaw<Array<{ id: bigint; capable: boolean }>>`
      SELECT u.id, u.e2ee_capable AS capable FROM users u
      WHERE u.id > ${cursor} AND ${populationWhere(filter)}
      ORDER BY u.id LIMIT ${limit}`;
    return { ids: rows.map((r) => r.id), capable: rows.map((r) => r.capable) };
  }

  /**
   * Inserts one chunk of rows (state legacy) and advances the cursor, compare-and-set on the
   * cursor so that two runs of the same job never count a chunk twice. Counters, histogram
   * and population size change in the same transaction. Returns false when the cursor moved.
   */
  async insertChunk(campaignId: bigint, fromCursor: bigint, chunk: PopulationChunk & { buckets: number[] }, db: Db): Promise<boolean> {
    const last = chunk.ids[chunk.ids.length - 1];
    const moved = await db.$executeRaw`
      UPDATE campaigns SET materialize_cursor = ${last} WHERE id = ${campaignId} AND materialize_cursor = ${fromCursor}`;
    if (moved !== 1) return false;
    const inserted = await db.$queryRaw<Array<{ bin: number; total: bigint; capable: bigint }>>`
      WITH src AS (SELECT * FROM unnest(${chunk.ids}::bigint[], ${chunk.buckets}::int[], ${chunk.capable}::bool[]) AS s(user_id, bucket, capable)),
      ins AS (
        INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable)
        SELECT ${campaignId}, user_id, bucket, capable FROM src
        ON CONFLICT (campaign_id, user_id) DO NOTHING
        RETURNING user_id, bucket)
      SELECT (ins.bucket / 1000)::int AS bin, count(*) AS total, count(*) FILTER (WHERE src.capable) AS capable
      FROM ins JOIN src USING (user_id) GROUP BY 1`;
    const total = inserted.reduce((n, r) => n + Number(r.total), 0);
    if (total > 0) {
      await db.$executeRaw`
        UPDATE bucket_histograms h SET total = h.total + d.total, capable = h.capable + d.capable
        FROM unnest(${inserted.map((r) => r.bin)}::int[], ${inserted.map((r) => r.total)}::bigint[], ${inserted.map((r) => r.capable)}::bigint[]) AS d(bin, total, capable)
        WHERE h.campaign_id = ${campaignId} AND h.bin = d.bin`;
      await db.$executeRaw`UPDATE campaigns SET population_size = population_size + ${total} WHERE id = ${campaignId}`;
      await addCounters(db, campaignId, { legacy: total });
    }
    return true;
  }

  /**
   * Fresh planner statistics for the rows just written: until autovacuum's analyze catches up,
   * a statement joining a campaign's rows to a selection of them (a hold over a country) is
   * planned for the old row count, a nested loop over the whole campaign per selected user
   * while holding their row locks. ANALYZE samples a fixed number of rows, so its cost does not
   * grow with the table.
   */
  async refreshStatistics(): Promise<void> {
    await this.prisma.client.$executeRawUnsafe('ANALYZE user_migrations');
  }

  async markMaterialized(campaignId: bigint, fromCursor: bigint): Promise<boolean> {
    const n = await this.prisma.client.$executeRaw`
      UPDATE campaigns SET materialize_cursor = NULL, materialized_at = clock_timestamp()
      WHERE id = ${campaignId} AND materialize_cursor = ${fromCursor}`;
    return n === 1;
  }

  /**
   * One user joins the campaign outside materialisation (an opt-in before its chunk was
   * reached): inserted if it is in the population; counted like any materialised row.
   *
   * Lock order: the campaign row first, as `insertChunk` does (its cursor update), then the
   * user row, histogram bin and counters. Taken the other way round (user row first, campaign
   * row last, through `population_size`) an opt-in and a chunk that both insert the same user
   * wait for each other and PostgreSQL fails one of them (40P01). A user who already has a row
   * (every user once the population is materialised) takes no lock here.
   */
  async insertOne(campaignId: bigint, filter: PopulationFilter, userId: bigint, bucket: number, db: Db): Promise<boolean> {
    const [has] = await db.$queryRaw<Array<{ present: boolean }>>`
      SELECT EXISTS (SELECT 1 FROM user_migrations WHERE campaign_id = ${campaignId} AND user_id = ${userId}) AS present`;
    if (has.present) return false;
    await db.$queryRaw`SELECT 1 FROM campaigns WHERE id = ${campaignId} FOR NO KEY UPDATE`;
    const rows = await db.$queryRaw<Array<{ capable: boolean }>>`
      WITH ins AS (
        INSERT INTO user_migrations (campaign_id, user_id, bucket, e2ee_capable)
        SELECT ${campaignId}, u.id, ${bucket}, u.e2ee_capable FROM users u WHERE u.id = ${userId} AND ${populationWhere(filter)}
        ON CONFLICT (campaign_id, user_id) DO NOTHING RETURNING user_id)
      SELECT u.e2ee_capable AS capable FROM ins JOIN users u ON u.id = ins.user_id`;
    if (rows.length === 0) return false;
    await db.$executeRaw`
      UPDATE bucket_histograms SET total = total + 1, capable = capable + ${rows[0].capable ? 1 : 0}
      WHERE campaign_id = ${campaignId} AND bin = ${Math.floor(bucket / 1000)}`;
    await db.$executeRaw`UPDATE campaigns SET population_size = population_size + 1 WHERE id = ${campaignId}`;
    await addCounters(db, campaignId, { legacy: 1 });
    return true;
  }
}
