import { Injectable } from '@nestjs/common';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import { batchRows } from './batches.repository';
import type { CampaignStatus } from '../campaigns/campaigns.types';
import { addCounters, emptyCounters, STATE_COLUMNS, type Counters, readCounters } from './counters';
import { move } from '../state/migration-states';

const REAP = move('reap an expired lease', { enrolling: ['eligible'] });

export interface StaleBatch {
  id: bigint;
  campaignId: bigint;
  fromBucket: number;
  toBucket: number;
  userIds: bigint[];
  campaignStatus: CampaignStatus;
}

const TRUTH_CHUNK_PPM = 100_000;

@Injectable()
export class MaintenanceRepository {
  constructor(readonly prisma: PrismaService) {}

  /** Batches still `running` long after their claim: their worker died or hung. */
  async staleBatches(leaseMs: number, limit: number): Promise<StaleBatch[]> {
    return this.prisma.client.$queryRaw<StaleBatch[]>`
      SELECT b.id, b.campaign_id AS "campaignId", b.from_bucket AS "fromBucket", b.to_bucket AS "toBucket", b.user_ids AS "userIds",
             c.status::text AS "campaignStatus"
      FROM campaigns c JOIN migration_batches b ON b.campaign_id = c.id AND b.status = 'running'
      WHERE c.status <> 'draft' AND b.started_at < clock_timestamp() - ${leaseMs} * interval '1 millisecond'
      ORDER BY b.id LIMIT ${limit}`;
  }

  /**
   * Hands a dead batch back: its rows still `enrolling` past their lease go back to
   * `eligible` (safe: the backend is idempotent per user), and the batch is queued again (or
   * dropped when the campaign no longer takes users). Returns the new queued_at, or null
   * when someone else already handled the batch.
   */
  async reapBatch(b: StaleBatch, leaseMs: number, tx: Db): Promise<{ queuedAtMs: number; returned: number } | null> {
    const next = b.campaignStatus === 'running' || b.campaignStatus === 'paused' ? 'queued' : 'dropped';
    const [batch] = await tx.$queryRaw<Array<{ queuedAt: Date }>>`
      UPDATE migration_batches SET status = ${next}::batch_status, queued_at = clock_timestamp(),
        finished_at = CASE WHEN ${next} = 'dropped' THEN clock_timestamp() ELSE NULL END
      WHERE id = ${b.id} AND status = 'running' AND started_at < clock_timestamp() - ${leaseMs} * interval '1 millisecond'
      RETURNING queued_at AS "queuedAt"`;
    if (!batch) return null;
    const returned = await tx.$executeRaw`
      UPDATE user_migrations SET state = ${REAP.to.eligible}, lease_until = NULL, updated_at = clock_timestamp()
      WHERE campaign_id = ${b.campaignId} AND ${batchRows(b, 'user_migrations')} AND state = ${REAP.from.enrolling}
        AND lease_until < clock_timestamp()`;
    await addCounters(tx, b.campaignId, { enrolling: -returned, eligible: returned });
    return { queuedAtMs: next === 'queued' ? batch.queuedAt.getTime() : -1, returned };
  }

  /**
   * Counters and table truth read in ONE repeatable-read snapshot, so that their difference
   * is exact even while batches run (every movement changes both by the same amount).
   * The truth is counted bucket chunk by bucket chunk over the (campaign, bucket) index.
   */
  async countersAndTruth(campaignId: bigint): Promise<{ counters: Counters; truth: Counters }> {
    return this.prisma.client.$transaction(
      async (tx) => {
        const counters = await readCounters(tx, campaignId);
        const truth = emptyCounters();
        for (let from = 0; from < 1_000_000; from += TRUTH_CHUNK_PPM) {
          const rows = await tx.$queryRaw<Array<{ state: string; n: bigint; prompted: bigint; pin: bigint; code: bigint; cloud: bigint; keychain: bigint }>>`
            SELECT state::text AS state, count(*) AS n,
              count(*) FILTER (WHERE recovery_state = 'prompted') AS prompted,
              count(*) FILTER (WHERE recovery_state = 'set' AND recovery_method = 'pin') AS pin,
              count(*) FILTER (WHERE recovery_state = 'set' AND recovery_method = 'recovery_code') AS code,
              count(*) FILTER (WHERE recovery_state = 'set' AND recovery_method = 'cloud_backup') AS cloud,
              count(*) FILTER (WHERE recovery_state = 'set' AND recovery_method = 'device_keychain') AS keychain
            FROM user_migrations WHERE campaign_id = ${campaignId} AND bucket >= ${from} AND bucket < ${from + TRUTH_CHUNK_PPM}
            GROUP BY state`;
          for (const r of rows) {
            if ((STATE_COLUMNS as readonly string[]).includes(r.state)) truth[r.state as (typeof STATE_COLUMNS)[number]] += Number(r.n);
            if (r.state === 'enabled') truth.recoveryPrompted += Number(r.prompted);
            truth.recoveryPin += Number(r.pin);
            truth.recoveryCode += Number(r.code);
            truth.recoveryCloud += Number(r.cloud);
            truth.recoveryKeychain += Number(r.keychain);
          }
        }
        return { counters, truth };
      },
      { isolationLevel: 'RepeatableRead', timeout: 600_000, maxWait: 10_000 },
    );
  }

  async campaignsToReconcile(): Promise<Array<{ id: bigint; key: string }>> {
    return this.prisma.client.$queryRaw`SELECT id, key FROM campaigns WHERE status <> 'draft' AND (materialized_at IS NOT NULL OR materialize_cursor IS NOT NULL) ORDER BY id`;
  }
}
