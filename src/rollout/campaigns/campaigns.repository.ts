import { Injectable } from '@nestjs/common';
import type { Campaign as CampaignRow, Prisma } from '../../generated/prisma/client';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import type { AdmissionFlag, Campaign, CampaignListQuery, CampaignPatch, CampaignStatus, NewCampaign, Pacing, PopulationFilter } from './campaigns.types';

export const COUNTER_SHARDS = 16;

function toCampaign(r: CampaignRow): Campaign {
  return {
    ...r,
    status: r.status as CampaignStatus,
    populationFilter: (r.populationFilter ?? {}) as PopulationFilter,
    pacing: r.pacing as unknown as Pacing,
  };
}

/** Columns a lifecycle transition may set besides status (server time comes from SQL). */
export interface TransitionEffects {
  start?: boolean;
  halt?: { reason: string };
  resumeFromHalt?: boolean;
  complete?: boolean;
}

@Injectable()
export class CampaignsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts the campaign and its 16 empty counter shards and 1,000 histogram bins. */
  async insert(c: NewCampaign, db: Db): Promise<Campaign> {
    const row = await db.campaign.create({
      data: {
        key: c.key,
        name: c.name,
        description: c.description,
        flagId: c.flagId,
        populationFilter: c.populationFilter as Prisma.InputJsonValue,
        pacing: c.pacing as unknown as Prisma.InputJsonValue,
        autoComplete: c.autoComplete,
      },
    });
    await db.$executeRaw`
      INSERT INTO progress_counters (campaign_id, shard) SELECT ${row.id}, s FROM generate_series(0, ${COUNTER_SHARDS - 1}) s`;
    await db.$executeRaw`
      INSERT INTO bucket_histograms (campaign_id, bin) SELECT ${row.id}, b FROM generate_series(0, 999) b`;
    return toCampaign(row);
  }

  async findById(id: bigint, db: Db = this.prisma.client): Promise<Campaign | null> {
    const row = await db.campaign.findUnique({ where: { id } });
    return row ? toCampaign(row) : null;
  }

  async findByRef(ref: string, db: Db = this.prisma.client): Promise<Campaign | null> {
    const row = /^[1-9][0-9]{0,18}$/.test(ref) && BigInt(ref) <= 9223372036854775807n
      ? ((await db.campaign.findUnique({ where: { id: BigInt(ref) } })) ?? (await db.campaign.findUnique({ where: { key: ref } })))
      : await db.campaign.findUnique({ where: { key: ref } });
    return row ? toCampaign(row) : null;
  }

  async list(q: CampaignListQuery): Promise<Campaign[]> {
    const rows = await this.prisma.client.campaign.findMany({
      where: { status: q.status, id: q.after !== undefined ? { gt: q.after } : undefined },
      orderBy: { id: 'asc' },
      take: q.limit,
    });
    return rows.map(toCampaign);
  }

  /** Ids of campaigns in the given statuses (a small table). */
  async idsWithStatus(statuses: readonly CampaignStatus[]): Promise<bigint[]> {
    const rows = await this.prisma.client.campaign.findMany({ where: { status: { in: [...statuses] } }, select: { id: true }, orderBy: { id: 'asc' } });
    return rows.map((r) => r.id);
  }

  /** Compare-and-set on version; returns the new row or null when someone else changed it. */
  async update(id: bigint, expectedVersion: number, patch: CampaignPatch, db: Db): Promise<Campaign | null> {
    const r = await db.campaign.updateMany({
      where: { id, version: expectedVersion },
      data: {
        name: patch.name,
        description: patch.description,
        populationFilter: patch.populationFilter as Prisma.InputJsonValue | undefined,
        pacing: patch.pacing as unknown as Prisma.InputJsonValue | undefined,
        autoComplete: patch.autoComplete,
        version: { increment: 1 },
      },
    });
    return r.count === 1 ? this.findById(id, db) : null;
  }

  /**
   * One conditional statement: status `from` → `to` at `expectedVersion`. Times come from
   * `clock_timestamp()` so that halt-to-last-commit is measured on one clock (PostgreSQL's).
   * The row lock is taken first (`locked`) and the times read once it is held, so no claim
   * that committed before the halt carries a later `started_at` than the halt's `halted_at`.
   */
  async transition(id: bigint, expectedVersion: number, from: CampaignStatus, to: CampaignStatus, fx: TransitionEffects, db: Db): Promise<Campaign | null> {
    const n = await db.$executeRaw`
      WITH locked AS (
        SELECT id FROM campaigns WHERE id = ${id} AND version = ${expectedVersion} AND status = ${from}::campaign_status FOR NO KEY UPDATE)
      UPDATE campaigns SET
        status = ${to}::campaign_status,
        version = version + 1,
        updated_at = clock_timestamp(),
        started_at = CASE WHEN ${fx.start === true} THEN coalesce(started_at, clock_timestamp()) ELSE started_at END,
        materialize_cursor = CASE WHEN ${fx.start === true} AND materialized_at IS NULL THEN coalesce(materialize_cursor, 0) ELSE materialize_cursor END,
        halted_at = CASE WHEN ${fx.halt !== undefined} THEN clock_timestamp() ELSE halted_at END,
        halt_reason = CASE WHEN ${fx.halt !== undefined} THEN ${fx.halt?.reason ?? null} ELSE halt_reason END,
        halt_to_last_commit_ms = CASE WHEN ${fx.halt !== undefined} THEN 0 ELSE halt_to_last_commit_ms END,
        completed_at = CASE WHEN ${fx.complete === true} THEN clock_timestamp() ELSE completed_at END
      FROM locked WHERE campaigns.id = locked.id AND campaigns.version = ${expectedVersion} AND campaigns.status = ${from}::campaign_status`;
    return n === 1 ? this.findById(id, db) : null;
  }

  async findFlag(ref: { id?: bigint; key?: string }, db: Db = this.prisma.client): Promise<AdmissionFlag | null> {
    const row = ref.id !== undefined ? await db.flag.findUnique({ where: { id: ref.id } }) : await db.flag.findUnique({ where: { key: ref.key! } });
    return row ? { id: row.id, key: row.key, salt: row.salt, rolloutPpm: row.rolloutPpm, killed: row.killed, version: row.version } : null;
  }
}

export interface StateCounts {
  legacy: number;
  ineligible: number;
  eligible: number;
  enrolling: number;
  enabled: number;
  failed: number;
  held: number;
}

export interface BatchRef {
  id: bigint;
  queuedAtMs: number;
}

/** Batch rows touched by lifecycle transitions (same transaction as the status change). */
@Injectable()
export class CampaignBatchesRepository {
  /** Halt/complete: queued batches become `dropped`; their jobs are removed after the commit. */
  async dropQueued(campaignId: bigint, db: Db): Promise<BatchRef[]> {
    const rows = await db.$queryRaw<Array<{ id: bigint; queuedAt: Date }>>`
      UPDATE migration_batches SET status = 'dropped', finished_at = clock_timestamp()
      WHERE campaign_id = ${campaignId} AND status = 'queued'
      RETURNING id, queued_at AS "queuedAt"`;
    return rows.map((r) => ({ id: r.id, queuedAtMs: r.queuedAt.getTime() }));
  }

  /** The campaign's users per state (a sum over its 16 counter shards). */
  async stateCounts(campaignId: bigint, db: Db): Promise<StateCounts> {
    const [r] = await db.$queryRaw<Array<Record<keyof StateCounts, bigint | null>>>`
      SELECT sum(legacy) AS legacy, sum(ineligible) AS ineligible, sum(eligible) AS eligible, sum(enrolling) AS enrolling,
             sum(enabled) AS enabled, sum(failed) AS failed, sum(held) AS held
      FROM progress_counters WHERE campaign_id = ${campaignId}`;
    const n = (k: keyof StateCounts) => Number(r?.[k] ?? 0);
    return { legacy: n('legacy'), ineligible: n('ineligible'), eligible: n('eligible'), enrolling: n('enrolling'), enabled: n('enabled'), failed: n('failed'), held: n('held') };
  }

  /** Ids of batches whose backend call may be in flight right now. */
  async running(campaignId: bigint, db: Db): Promise<bigint[]> {
    const rows = await db.$queryRaw<Array<{ id: bigint }>>`
      SELECT id FROM migration_batches WHERE campaign_id = ${campaignId} AND status = 'running' ORDER BY id`;
    return rows.map((r) => r.id);
  }

  /**
   * Resume after a halt: batches dropped by the halt (their users are still `eligible`)
   * are queued again with a new queued_at, hence a new job id.
   */
  async requeueDropped(campaignId: bigint, db: Db): Promise<BatchRef[]> {
    const rows = await db.$queryRaw<Array<{ id: bigint; queuedAt: Date }>>`
      UPDATE migration_batches SET status = 'queued', queued_at = clock_timestamp(), finished_at = NULL
      WHERE campaign_id = ${campaignId} AND status = 'dropped'
      RETURNING id, queued_at AS "queuedAt"`;
    return rows.map((r) => ({ id: r.id, queuedAtMs: r.queuedAt.getTime() }));
  }
}
