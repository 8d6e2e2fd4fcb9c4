import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/database/prisma.service';

/**
 * Database-health indicators (the signals GitLab's batched migrations throttle on), read from
 * PostgreSQL's statistics views. The role needs pg_monitor (or superuser) to see other
 * sessions' transactions; without it the oldest-transaction age only covers its own sessions.
 */
@Injectable()
export class DbHealthRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Autovacuum workers busy on user_migrations or one of its partitions, in this database. */
  async autovacuumWorkers(): Promise<number> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM pg_stat_progress_vacuum v JOIN pg_stat_activity a ON a.pid = v.pid
      WHERE v.datname = current_database() AND a.backend_type = 'autovacuum worker'
        AND v.relid IN (SELECT 'user_migrations'::regclass UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = 'user_migrations'::regclass)`;
    return r.n;
  }

  /** Bytes of WAL written so far (replayed, on a standby) and PostgreSQL's clock, for a rate between two ticks. */
  async walPosition(): Promise<{ bytes: string; at: Date }> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ bytes: string; at: Date }>>`
      SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0')::text AS bytes,
             clock_timestamp() AS at`;
    return r;
  }

  /** The largest replay lag among streaming replicas, in seconds; null when there is none. */
  async replicationLagSeconds(): Promise<number | null> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ n: number; lag: number | null }>>`
      SELECT count(*)::int AS n, max(extract(epoch FROM coalesce(replay_lag, interval '0')))::float8 AS lag FROM pg_stat_replication`;
    return r.n === 0 ? null : (r.lag ?? 0);
  }

  /**
   * Age in seconds of the oldest transaction in this database that holds back vacuum (it has
   * an xmin or an xid), other than this session; 0 when there is none.
   */
  async oldestTransactionAgeSeconds(): Promise<number> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ age: number | null }>>`
      SELECT max(extract(epoch FROM clock_timestamp() - xact_start))::float8 AS age FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
        AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)`;
    return Math.max(0, r.age ?? 0);
  }
}
