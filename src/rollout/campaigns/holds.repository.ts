import { Injectable } from '@nestjs/common';
import { PrismaService, type Db } from '../../core/database/prisma.service';
import { addCounters, type CounterColumn, type CounterDelta } from '../migration/counters';
import { populationWhere } from '../migration/population-filter.sql';
import { INELIGIBLE_REASON } from '../migration/planner.repository';
import type { PopulationFilter } from './campaigns.types';
import { move, STATE_SQL } from '../state/migration-states';

export interface HoldView {
  id: bigint;
  campaignId: bigint;
  filter: PopulationFilter;
  reason: string;
  createdBy: string;
  createdAt: Date;
  releasedAt: Date | null;
  heldCount: bigint;
  appliedAt: Date | null;
}

/** States a hold takes users from: anyone not enabled and not in a backend call right now. */
const PLACE = move('place a hold', { legacy: ['held'], ineligible: ['held'], eligible: ['held'], failed: ['held'] });
const HOLDABLE = Object.keys(PLACE.from);
const RELEASE = move('release a hold', { held: ['eligible', 'ineligible', 'legacy'] });

function toDelta(byState: Record<string, number>, sign: 1 | -1): CounterDelta {
  const d: CounterDelta = {};
  for (const [state, n] of Object.entries(byState)) d[state as CounterColumn] = sign * n;
  return d;
}

@Injectable()
export class HoldsRepository {
  constructor(readonly prisma: PrismaService) {}

  async find(campaignId: bigint, id: bigint, db: Db = this.prisma.client): Promise<HoldView | null> {
    const row = await db.hold.findFirst({ where: { id, campaignId } });
    return row ? ({ ...row, filter: row.filter as PopulationFilter } as HoldView) : null;
  }

  async list(campaignId: bigint, includeReleased: boolean, db: Db = this.prisma.client): Promise<HoldView[]> {
    const rows = await db.hold.findMany({ where: { campaignId, ...(includeReleased ? {} : { releasedAt: null }) }, orderBy: { id: 'asc' }, take: 1000 });
    return rows.map((r) => ({ ...r, filter: r.filter as PopulationFilter }) as HoldView);
  }

  async findActiveSame(campaignId: bigint, filter: PopulationFilter, db: Db): Promise<HoldView | null> {
    const [r] = await db.$queryRaw<Array<{ id: bigint }>>`
      SELECT id FROM holds WHERE campaign_id = ${campaignId} AND released_at IS NULL AND filter = ${JSON.stringify(filter)}::jsonb LIMIT 1`;
    return r ? this.find(campaignId, r.id, db) : null;
  }

  async insert(h: { campaignId: bigint; filter: PopulationFilter; reason: string; createdBy: string }, db: Db): Promise<bigint> {
    const [r] = await db.$queryRaw<Array<{ id: bigint }>>`
      INSERT INTO holds (campaign_id, filter, reason, created_by) VALUES (${h.campaignId}, ${JSON.stringify(h.filter)}::jsonb, ${h.reason}, ${h.createdBy})
      RETURNING id`;
    return r.id;
  }

  /**
   * One statement: matching users of the campaign who are not enabled (nor enrolling: their
   * backend call is in flight) become `held` with the hold's id. Counters and held_count in
   * the same transaction. Returns how many left each state.
   */
  async apply(campaignId: bigint, holdId: bigint, filter: PopulationFilter, db: Db): Promise<Record<string, number>> {
    const rows = await db.$queryRaw<Array<{ state: string; n: bigint }>>`
      WITH m AS (
        SELECT um.user_id, um.state::text AS old FROM user_migrations um JOIN users u ON u.id = um.user_id
        WHERE um.campaign_id = ${campaignId} AND um.state::text = ANY(${HOLDABLE}::text[]) AND ${populationWhere(filter)}
        FOR UPDATE OF um),
      upd AS (
        UPDATE user_migrations um SET state = ${PLACE.to.held}, hold_id = ${holdId}, lease_until = NULL, updated_at = clock_timestamp()
        FROM m WHERE um.campaign_id = ${campaignId} AND um.user_id = m.user_id
        RETURNING m.old)
      SELECT old AS state, count(*) AS n FROM upd GROUP BY 1`;
    const byState = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    const total = Object.values(byState).reduce((a, b) => a + b, 0);
    await addCounters(db, campaignId, { ...toDelta(byState, -1), held: total });
    await db.$executeRaw`UPDATE holds SET held_count = held_count + ${total}, applied_at = clock_timestamp() WHERE id = ${holdId}`;
    return byState;
  }

  /**
   * Hold changes of one campaign (place, release) run one at a time: a transaction-scoped
   * advisory lock per campaign, taken first: otherwise two releases of overlapping holds could
   * each hand their users over to the other, and two placements of one filter both insert. A
   * transaction that waited here reads the other one's committed result (READ COMMITTED).
   */
  async serialize(campaignId: bigint, db: Db): Promise<void> {
    await db.$queryRaw`SELECT pg_advisory_xact_lock(hashtextextended('cutover.holds:' || ${campaignId}::text, 0))::text`;
  }

  /** Marks the hold released (compare-and-set); false when it was released already. */
  async markReleased(campaignId: bigint, id: bigint, db: Db): Promise<boolean> {
    const n = await db.$executeRaw`
      UPDATE holds SET released_at = clock_timestamp(), held_count = 0 WHERE id = ${id} AND campaign_id = ${campaignId} AND released_at IS NULL`;
    return n === 1;
  }

  /** Users of a released hold that another active hold also matches stay held, under that hold. */
  async handOver(campaignId: bigint, fromHold: bigint, to: HoldView, db: Db): Promise<number> {
    const n = await db.$executeRaw`
      UPDATE user_migrations um SET hold_id = ${to.id}, updated_at = clock_timestamp()
      FROM users u
      WHERE um.campaign_id = ${campaignId} AND um.hold_id = ${fromHold} AND um.state = ${STATE_SQL.held} AND u.id = um.user_id AND ${populationWhere(to.filter)}`;
    if (n > 0) await db.$executeRaw`UPDATE holds SET held_count = held_count + ${n} WHERE id = ${to.id}`;
    return n;
  }

  /**
   * Release: users whose bucket the ramp has already planned (or who opted in) are admitted
   * again (eligible, or ineligible when a device cannot do E2EE yet); the others go back to
   * legacy and the ramp admits them when it reaches their bucket. Returns the newly eligible.
   */
  async release(campaignId: bigint, holdId: bigint, db: Db): Promise<{ eligible: bigint[]; byState: Record<string, number> }> {
    const rows = await db.$queryRaw<Array<{ userId: bigint; state: string }>>`
      UPDATE user_migrations um SET
        state = (CASE WHEN um.bucket < c.planned_ppm OR um.enrolled_via = 'opt_in'
                 THEN (CASE WHEN u.e2ee_capable THEN ${RELEASE.to.eligible} ELSE ${RELEASE.to.ineligible} END) ELSE ${RELEASE.to.legacy} END)::migration_state,
        last_error = CASE WHEN (um.bucket < c.planned_ppm OR um.enrolled_via = 'opt_in') AND NOT u.e2ee_capable THEN ${INELIGIBLE_REASON} ELSE NULL END,
        enrolled_via = CASE WHEN um.bucket < c.planned_ppm OR um.enrolled_via = 'opt_in' THEN coalesce(um.enrolled_via, 'ramp') ELSE NULL END,
        enrolled_step = CASE WHEN um.enrolled_via = 'opt_in' THEN um.enrolled_step WHEN um.bucket < c.planned_ppm THEN coalesce(um.enrolled_step, greatest(c.current_step, 0)::smallint) ELSE NULL END,
        admitted_at = CASE WHEN um.bucket < c.planned_ppm OR um.enrolled_via = 'opt_in' THEN coalesce(um.admitted_at, clock_timestamp()) ELSE NULL END,
        flag_version = CASE WHEN um.bucket < c.planned_ppm OR um.enrolled_via = 'opt_in' THEN coalesce(um.flag_version, f.version) ELSE NULL END,
        hold_id = NULL, updated_at = clock_timestamp()
      FROM users u, campaigns c, flags f
      WHERE um.campaign_id = ${campaignId} AND um.hold_id = ${holdId} AND um.state = ${RELEASE.from.held}
        AND u.id = um.user_id AND c.id = um.campaign_id AND f.id = c.flag_id
      RETURNING um.user_id AS "userId", um.state::text AS state`;
    const byState: Record<string, number> = {};
    for (const r of rows) byState[r.state] = (byState[r.state] ?? 0) + 1;
    await addCounters(db, campaignId, { ...toDelta(byState, 1), held: -rows.length });
    return { eligible: rows.filter((r) => r.state === 'eligible').map((r) => r.userId), byState };
  }

  /** Batches of explicit users; `dropped` when the campaign is halted, so that a resume requeues them. */
  async insertUserBatches(campaignId: bigint, userIds: readonly bigint[], batchSize: number, status: 'queued' | 'dropped', db: Db) {
    const out: Array<{ id: bigint; queuedAtMs: number }> = [];
    for (let i = 0; i < userIds.length; i += batchSize) {
      const [r] = await db.$queryRaw<Array<{ id: bigint; queuedAt: Date }>>`
        INSERT INTO migration_batches (campaign_id, from_bucket, to_bucket, user_ids, status, queued_at, finished_at)
        VALUES (${campaignId}, 0, 1000000, ${userIds.slice(i, i + batchSize)}::bigint[], ${status}::batch_status, clock_timestamp(),
                CASE WHEN ${status} = 'dropped' THEN clock_timestamp() END)
        RETURNING id, queued_at AS "queuedAt"`;
      out.push({ id: r.id, queuedAtMs: r.queuedAt.getTime() });
    }
    return out;
  }

  /** Active holds applied before the campaign finished materialising (rows inserted since are not held yet). */
  async staleActive(campaignId: bigint): Promise<HoldView[]> {
    const ids = await this.prisma.client.$queryRaw<Array<{ id: bigint }>>`
      SELECT h.id FROM holds h JOIN campaigns c ON c.id = h.campaign_id
      WHERE h.campaign_id = ${campaignId} AND h.released_at IS NULL AND c.materialized_at IS NOT NULL
        AND (h.applied_at IS NULL OR h.applied_at < c.materialized_at)`;
    const out: HoldView[] = [];
    for (const { id } of ids) out.push((await this.find(campaignId, id))!);
    return out;
  }
}
