import { Injectable } from '@nestjs/common';
import { DbHealthRepository } from './db-health.repository';
import type { DbHealthMetric, ExternalReading, GuardrailRule } from './guardrails';
import { PrometheusClient } from './prometheus.client';

/** The last WAL position seen, kept in guardrail_state so that the next tick can compute a rate. */
export interface WalSample {
  bytes: string;
  at: string;
}

export interface Signals {
  /** by rule index; undefined for rules measured on the migration tables */
  readings: Array<ExternalReading | undefined>;
  walSample?: WalSample;
}

const errorOf = (err: unknown): ExternalReading => ({ status: 'error', value: null, error: (err as Error)?.message ?? String(err) });

/**
 * Reads what the external rules of a campaign need, once per tick: Prometheus queries and the
 * database-health indicators. A failed read becomes an `error` reading, never an exception,
 * so that an unreachable Prometheus is a visible guardrail state and not a failed tick.
 */
@Injectable()
export class GuardrailSignalsService {
  constructor(
    private readonly prometheus: PrometheusClient,
    private readonly db: DbHealthRepository,
  ) {}

  async read(rules: readonly GuardrailRule[], previousWal: WalSample | undefined): Promise<Signals> {
    const needs = new Set(rules.map((r) => r.metric));
    const db = new Map<DbHealthMetric, ExternalReading>();
    let walSample: WalSample | undefined;
    if (needs.has('db_wal_bytes_per_second')) {
      try {
        const now = await this.db.walPosition();
        walSample = { bytes: now.bytes, at: now.at.toISOString() };
        db.set('db_wal_bytes_per_second', walRate(previousWal, walSample));
      } catch (err) {
        db.set('db_wal_bytes_per_second', errorOf(err));
      }
    }
    const one = async (m: DbHealthMetric, f: () => Promise<number | null>) => {
      if (!needs.has(m)) return;
      try {
        const v = await f();
        db.set(m, v === null ? { status: 'no_data', value: null } : { status: 'ok', value: v });
      } catch (err) {
        db.set(m, errorOf(err));
      }
    };
    await one('db_autovacuum_running', () => this.db.autovacuumWorkers());
    await one('db_replication_lag_seconds', () => this.db.replicationLagSeconds());
    await one('db_oldest_xact_age_seconds', () => this.db.oldestTransactionAgeSeconds());
    const readings = await Promise.all(
      rules.map(async (r) => (r.metric === 'prometheus' ? this.prometheus.read(r) : db.get(r.metric as DbHealthMetric))),
    );
    return { readings, walSample };
  }
}

/** WAL bytes per second since the previous tick's sample (no data on the first tick or after a clock step back). */
export function walRate(prev: WalSample | undefined, now: WalSample): ExternalReading {
  if (!prev) return { status: 'no_data', value: null };
  const seconds = (Date.parse(now.at) - Date.parse(prev.at)) / 1000;
  const bytes = Number(BigInt(now.bytes.split('.')[0]) - BigInt(prev.bytes.split('.')[0]));
  if (!(seconds > 0) || bytes < 0) return { status: 'no_data', value: null };
  return { status: 'ok', value: Math.round(bytes / seconds) };
}
