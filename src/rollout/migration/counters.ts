import type { Db } from '../../core/database/prisma.service';
import { COUNTER_SHARDS } from '../campaigns/campaigns.repository';
import { MIGRATION_STATES } from '../state/migration-states';

export const STATE_COLUMNS = MIGRATION_STATES;
export const RECOVERY_COLUMNS = ['recoveryPrompted', 'recoveryPin', 'recoveryCode', 'recoveryCloud', 'recoveryKeychain'] as const;
export type CounterColumn = (typeof STATE_COLUMNS)[number] | (typeof RECOVERY_COLUMNS)[number];
export type CounterDelta = Partial<Record<CounterColumn, number>>;
export type Counters = Record<CounterColumn, number>;

export function emptyCounters(): Counters {
  return Object.fromEntries([...STATE_COLUMNS, ...RECOVERY_COLUMNS].map((c) => [c, 0])) as Counters;
}

export function randomShard(): number {
  return Math.floor(Math.random() * COUNTER_SHARDS);
}

/**
 * Adds deltas to ONE random shard of the campaign's counters, inside the caller's
 * transaction (the same one that moved the rows). Random shards keep concurrent batches
 * from queueing on one row lock.
 */
export async function addCounters(db: Db, campaignId: bigint, d: CounterDelta, shard = randomShard()): Promise<void> {
  if (!Object.values(d).some((v) => v !== undefined && v !== 0)) return;
  const v = (c: CounterColumn) => BigInt(d[c] ?? 0);
  await db.$executeRaw`
    UPDATE progress_counters SET
      legacy = legacy + ${v('legacy')}, ineligible = ineligible + ${v('ineligible')}, eligible = eligible + ${v('eligible')},
      enrolling = enrolling + ${v('enrolling')}, enabled = enabled + ${v('enabled')}, failed = failed + ${v('failed')}, held = held + ${v('held')},
      recovery_prompted = recovery_prompted + ${v('recoveryPrompted')}, recovery_pin = recovery_pin + ${v('recoveryPin')},
      recovery_code = recovery_code + ${v('recoveryCode')}, recovery_cloud = recovery_cloud + ${v('recoveryCloud')},
      recovery_keychain = recovery_keychain + ${v('recoveryKeychain')}
    WHERE campaign_id = ${campaignId} AND shard = ${shard}`;
}

/** The campaign's counters: a sum over 16 rows, constant cost at any population. */
export async function readCounters(db: Db, campaignId: bigint): Promise<Counters> {
  const [r] = await db.$queryRaw<Array<Record<string, bigint | null>>>`
    SELECT sum(legacy) AS legacy, sum(ineligible) AS ineligible, sum(eligible) AS eligible, sum(enrolling) AS enrolling,
           sum(enabled) AS enabled, sum(failed) AS failed, sum(held) AS held,
           sum(recovery_prompted) AS "recoveryPrompted", sum(recovery_pin) AS "recoveryPin", sum(recovery_code) AS "recoveryCode",
           sum(recovery_cloud) AS "recoveryCloud", sum(recovery_keychain) AS "recoveryKeychain"
    FROM progress_counters WHERE campaign_id = ${campaignId}`;
  const out = emptyCounters();
  for (const k of Object.keys(out) as CounterColumn[]) out[k] = Number(r?.[k] ?? 0);
  return out;
}

/** Counts by state of a list of new states (RETURNING rows of a set-based update). */
export function tally<T extends { state: string }>(rows: readonly T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.state] = (out[r.state] ?? 0) + 1;
  return out;
}
