import { Injectable } from '@nestjs/common';
import type { DirectQuery } from '../../core/database/prisma.service';
import { bigintList } from '../../core/database/sql-lists';
import { Prisma } from '../../generated/prisma/client';
import { randomShard } from './counters';
import { STATE_SQL } from '../state/migration-states';

export interface RecoveryRow {
  campaignId: bigint;
  userId: bigint;
  oldState: string;
  oldMethod: string | null;
  method: string;
  changed: boolean;
}

/** A method's counter column in progress_counters. */
const COLUMN: Record<string, string> = { pin: 'recovery_pin', recovery_code: 'recovery_code', cloud_backup: 'recovery_cloud', device_keychain: 'recovery_keychain' };

/** `+1` for rows that now have `method`, `-1` for rows that had it before. */
function methodDelta(method: string): Prisma.Sql {
  const col = Prisma.raw(COLUMN[method]);
  return Prisma.sql`${col} = ${col} + d.${Prisma.raw(`n_${method}`)}`;
}

@Injectable()
export class RecoveryGroupRepository {
  /**
   * Recovery reports of a group in ONE statement: each user's recovery method is set in every
   * campaign (or the one given) where the user is enabled; a row that already has the method
   * is not rewritten. Rows are locked in (campaign, user) order (no deadlock between groups);
   * counters and an audit row per change (`audit`) are written in the same statement, which is
   * atomic on its own. Users must appear once per group (GroupCommit's `conflict`). Returns one
   * row per (campaign, user) where the user is enabled.
   */
  async setRecovery(
    q: DirectQuery,
    reports: ReadonlyArray<{ userId: bigint; method: string }>,
    campaignId: bigint | null,
    audit: { actors: Prisma.Sql; insertFrom: (source: Prisma.Sql) => Prisma.Sql },
  ): Promise<RecoveryRow[]> {
    const methods = Object.keys(COLUMN);
    for (const r of reports) if (!methods.includes(r.method)) throw new RangeError(`not a recovery method: ${r.method}`);
    const perMethod = methods.map(
      (m) => Prisma.sql`(count(*) FILTER (WHERE changed AND method = ${m}) - count(*) FILTER (WHERE changed AND s = 'set' AND m = ${m}))::int AS ${Prisma.raw(`n_${m}`)}`,
    );
    const [r] = await q<{ rows: string | null }>(Prisma.sql`
      WITH src AS (SELECT * FROM unnest(${bigintList(reports.map((x) => x.userId))}::bigint[], ${`{${reports.map((x) => x.method).join(',')}}`}::text[]) AS s(user_id, method)),
      old AS (
        SELECT um.campaign_id, um.user_id, um.recovery_state::text AS s, um.recovery_method::text AS m, src.method
        FROM src JOIN campaigns c ON (${campaignId}::bigint IS NULL OR c.id = ${campaignId}::bigint)
        JOIN user_migrations um ON um.campaign_id = c.id AND um.user_id = src.user_id
        WHERE um.state = ${STATE_SQL.enabled} ORDER BY um.campaign_id, um.user_id FOR UPDATE OF um),
      upd AS (
        UPDATE user_migrations um SET recovery_state = 'set', recovery_method = old.method::recovery_method, updated_at = clock_timestamp()
        FROM old WHERE um.campaign_id = old.campaign_id AND um.user_id = old.user_id AND (old.s <> 'set' OR old.m IS DISTINCT FROM old.method)
        RETURNING um.campaign_id, um.user_id),
      res AS (SELECT old.*, (upd.user_id IS NOT NULL) AS changed FROM old LEFT JOIN upd USING (campaign_id, user_id)),
      d AS (
        SELECT campaign_id, (count(*) FILTER (WHERE changed))::int AS n, (-count(*) FILTER (WHERE changed AND s = 'prompted'))::int AS n_prompted, ${Prisma.join(perMethod, ', ')}
        FROM res GROUP BY campaign_id),
      cnt AS (
        UPDATE progress_counters pc SET recovery_prompted = recovery_prompted + d.n_prompted, ${Prisma.join(methods.map(methodDelta), ', ')}
        FROM d WHERE pc.campaign_id = d.campaign_id AND pc.shard = ${randomShard()} AND d.n > 0),
      actors AS (${audit.actors}),
      aud AS (${audit.insertFrom(Prisma.sql`
        SELECT a.id, a.name, a.role, 'user_migration.recovery_set', 'user_migration', res.campaign_id::text || ':' || res.user_id::text,
               jsonb_build_object('recoveryState', res.s, 'recoveryMethod', res.m), jsonb_build_object('recoveryState', 'set', 'recoveryMethod', res.method), NULL, a.rid
        FROM res JOIN actors a ON a.u = res.user_id WHERE res.changed`)})
      SELECT string_agg(concat_ws(':', campaign_id, user_id, s, coalesce(m, ''), method, changed::int), ',') AS rows FROM res`);
    if (!r.rows) return [];
    return r.rows.split(',').map((x) => {
      const [c, u, s, m, method, changed] = x.split(':');
      return { campaignId: BigInt(c), userId: BigInt(u), oldState: s, oldMethod: m === '' ? null : m, method, changed: changed === '1' };
    });
  }
}
