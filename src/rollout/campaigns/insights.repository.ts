import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../core/database/prisma.service';
import { populationWhere } from '../migration/population-filter.sql';
import type { PopulationFilter } from './campaigns.types';
import { binsOf, type HistogramBin } from './forecast';

export interface UserMigrationRow {
  bucket: number;
  state: string;
  attempts: number;
  lastError: string | null;
  enrolledVia: string | null;
  enrolledStep: number | null;
  flagVersion: number | null;
  holdId: bigint | null;
  holdReason: string | null;
  recoveryState: string;
  recoveryMethod: string | null;
  admittedAt: Date | null;
  enabledAt: Date | null;
  updatedAt: Date;
  leaseUntil: Date | null;
  country: string;
  platform: string;
  appVersion: string;
  e2eeCapable: boolean;
}

/** Reads for forecast and explain: histogram bins and one user's row by primary key. */
@Injectable()
export class InsightsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async bins(campaignId: bigint, fromPpm: number, toPpm: number): Promise<HistogramBin[]> {
    const { first, last } = binsOf(fromPpm, toPpm);
    const rows = await this.prisma.client.$queryRaw<Array<{ bin: number; total: bigint; capable: bigint }>>`
      SELECT bin, total, capable FROM bucket_histograms WHERE campaign_id = ${campaignId} AND bin >= ${first} AND bin <= ${last} ORDER BY bin`;
    return rows.map((r) => ({ bin: r.bin, total: Number(r.total), capable: Number(r.capable) }));
  }

  /**
   * The campaign's users and capable users now (bucket histogram) and the oldest progress
   * sample of the last 24 hours that recorded the capable count (`now` is the app's clock,
   * which stamps the samples).
   */
  async capabilityReadings(campaignId: bigint, now: Date): Promise<{ users: number; capable: number; then: { at: Date; capable: number } | null }> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ users: number; capable: number; thenAt: Date | null; thenCapable: number | null }>>`
      SELECT h.users, h.capable, s.at AS "thenAt", s.capable::float8 AS "thenCapable"
      FROM (SELECT coalesce(sum(total), 0)::float8 AS users, coalesce(sum(capable), 0)::float8 AS capable FROM bucket_histograms WHERE campaign_id = ${campaignId}) h
      LEFT JOIN LATERAL (SELECT at, capable FROM progress_samples
                         WHERE campaign_id = ${campaignId} AND capable IS NOT NULL AND at >= ${now}::timestamptz - interval '24 hours'
                         ORDER BY at LIMIT 1) s ON true`;
    return { users: r.users, capable: r.capable, then: r.thenAt && r.thenCapable !== null ? { at: r.thenAt, capable: r.thenCapable } : null };
  }

  async userMigration(campaignId: bigint, userId: bigint): Promise<UserMigrationRow | null> {
    const [r] = await this.prisma.client.$queryRaw<UserMigrationRow[]>`
      SELECT um.bucket, um.state::text AS state, um.attempts::int AS attempts, um.last_error AS "lastError", um.enrolled_via::text AS "enrolledVia",
             um.enrolled_step::int AS "enrolledStep", um.flag_version AS "flagVersion", um.hold_id AS "holdId", h.reason AS "holdReason",
             um.recovery_state::text AS "recoveryState", um.recovery_method::text AS "recoveryMethod", um.admitted_at AS "admittedAt",
             um.enabled_at AS "enabledAt", um.updated_at AS "updatedAt", um.lease_until AS "leaseUntil",
             u.country, u.platform, u.app_version AS "appVersion", u.e2ee_capable AS "e2eeCapable"
      FROM user_migrations um JOIN users u ON u.id = um.user_id LEFT JOIN holds h ON h.id = um.hold_id
      WHERE um.campaign_id = ${campaignId} AND um.user_id = ${userId}`;
    return r ?? null;
  }

  /** null: no such user; false: not in the campaign's population. */
  async inPopulation(userId: bigint, filter: PopulationFilter): Promise<boolean | null> {
    const [r] = await this.prisma.client.$queryRaw<Array<{ inside: boolean }>>`
      SELECT ${populationWhere(filter)} AS inside FROM users u WHERE u.id = ${userId}`;
    return r ? r.inside : null;
  }
}
