import { Injectable } from '@nestjs/common';
import type { Prisma } from '../generated/prisma/client';
import { PrismaService, type Db } from '../core/database/prisma.service';
import { progressSql } from './progress.sql';
import type {
  CampaignRow,
  CounterTotals,
  ProgressInputs,
  ProgressSampleRow,
  RecentBatchesRow,
  SampleResolution,
  StateCounts,
} from './progress.types';
import { STATES } from './progress.types';
import { StatementLog } from './statement-log';

type Num = bigint | number | string | null;
type CounterRecord = Record<(typeof STATES)[number], Num> & {
  recoveryPrompted: Num;
  recoveryPin: Num;
  recoveryCode: Num;
  recoveryCloud: Num;
  recoveryKeychain: Num;
};

const num = (v: Num): number => (v === null ? 0 : Number(v));

function statesOf(r: Record<(typeof STATES)[number], Num>): StateCounts {
  return Object.fromEntries(STATES.map((s) => [s, num(r[s])])) as StateCounts;
}

export function countersOf(r: CounterRecord): CounterTotals {
  return {
    states: statesOf(r),
    recovery: {
      prompted: num(r.recoveryPrompted),
      pin: num(r.recoveryPin),
      recoveryCode: num(r.recoveryCode),
      cloudBackup: num(r.recoveryCloud),
      deviceKeychain: num(r.recoveryKeychain),
    },
  };
}

type SampleRecord = Record<(typeof STATES)[number], Num> & Omit<ProgressSampleRow, 'states'>;

function sampleOf(r: SampleRecord): ProgressSampleRow {
  return {
    campaignId: BigInt(r.campaignId as bigint | string),
    at: r.at,
    resolution: r.resolution,
    states: statesOf(r),
    throughputPerSecond: Number(r.throughputPerSecond),
    paceUsersPerSecond: Number(r.paceUsersPerSecond),
    admittedPpm: Number(r.admittedPpm),
  };
}

const dateOrNull = (v: string | Date | null | undefined): Date | null => (v ? new Date(v) : null);

/** The campaign row as row_to_json gives it: timestamps as ISO strings, bigints as numbers. */
function campaignOfJson(c: Record<string, any>, id: string): CampaignRow {
  return {
    ...(c as CampaignRow),
    id: BigInt(id),
    flagId: BigInt(c.flagId),
    populationSize: BigInt(c.populationSize),
    stepEnteredAt: dateOrNull(c.stepEnteredAt),
    startedAt: dateOrNull(c.startedAt),
    completedAt: dateOrNull(c.completedAt),
    haltedAt: dateOrNull(c.haltedAt),
    lastEnabledAt: dateOrNull(c.lastEnabledAt),
    updatedAt: new Date(c.updatedAt),
  };
}

interface InputsRecord {
  campaignId: string;
  campaign: Record<string, any>;
  counters: CounterRecord;
  backlog: { queued: Num; running: Num; oldestQueuedAt: string | null };
  recentBatches: Record<keyof RecentBatchesRow, Num>;
  admitted: { users: Num; capable: Num };
  capableBins: Num[];
  rampBusy: { processed: Num; busySeconds: Num };
  samples: Array<Omit<SampleRecord, 'at'> & { at: string }>;
}

export interface CampaignOverviewRow {
  id: bigint;
  key: string;
  name: string;
  status: CampaignRow['status'];
  version: number;
  currentStep: number;
  admittedPpm: number;
  populationSize: bigint;
  updatedAt: Date;
  counters: CounterTotals;
}

export interface CampaignMetricsRow {
  key: string;
  status: CampaignRow['status'];
  currentStep: number;
  paceUsersPerSecond: number;
  admittedPpm: number;
  guardrailVerdict: string;
  counters: CounterTotals;
}

/** Reads of progress_counters, migration_batches, bucket_histograms, campaigns; writes of progress_samples. */
@Injectable()
export class ProgressRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly log: StatementLog,
  ) {}

  private run<T>(sql: Prisma.Sql, db: Db = this.prisma.client): Promise<T[]> {
    this.log.record(sql);
    return db.$queryRaw<T[]>(sql);
  }

  async findCampaign(ref: { id: bigint } | { key: string }): Promise<CampaignRow | null> {
    const [row] = await this.run<CampaignRow>(progressSql.campaign(ref));
    return row ?? null;
  }

  /** Every input of one progress reading in one round trip; null when the campaign does not exist. */
  async progressInputs(ref: { id: bigint } | { key: string }, now: Date, since: { batches: Date; samples: Date }): Promise<ProgressInputs | null> {
    const [row] = await this.run<InputsRecord>(progressSql.progressInputs(ref, now, since.batches, since.samples));
    if (!row) return null;
    const b = row.backlog;
    const r = row.recentBatches;
    return {
      campaign: campaignOfJson(row.campaign, row.campaignId),
      counters: countersOf(row.counters),
      backlog: { queued: num(b.queued), running: num(b.running), oldestQueuedAt: dateOrNull(b.oldestQueuedAt) },
      recentBatches: { claimed: num(r.claimed), enabled: num(r.enabled), failed: num(r.failed), backendErrors: num(r.backendErrors) },
      admitted: { users: Math.round(num(row.admitted.users)), capable: Math.round(num(row.admitted.capable)) },
      capableBins: row.capableBins.map(num),
      rampBusy: { processed: num(row.rampBusy.processed), busySeconds: num(row.rampBusy.busySeconds) },
      recentSamples: row.samples.map((x) => sampleOf({ ...x, at: new Date(x.at) })),
    };
  }

  async history(campaignId: bigint, q: { resolutions: readonly SampleResolution[]; since: Date; limit: number }): Promise<ProgressSampleRow[]> {
    const rows = await this.run<SampleRecord>(progressSql.history(campaignId, q.resolutions, q.since, q.limit));
    return rows.map(sampleOf).reverse();
  }

  async overview(beforeId: bigint | null, limit: number): Promise<CampaignOverviewRow[]> {
    const rows = await this.run<CounterRecord & Omit<CampaignOverviewRow, 'counters'>>(progressSql.overview(beforeId, limit));
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      name: r.name,
      status: r.status,
      version: r.version,
      currentStep: r.currentStep,
      admittedPpm: r.admittedPpm,
      populationSize: r.populationSize,
      updatedAt: r.updatedAt,
      counters: countersOf(r),
    }));
  }

  async metricsCampaigns(): Promise<CampaignMetricsRow[]> {
    const rows = await this.run<CounterRecord & Omit<CampaignMetricsRow, 'counters'>>(progressSql.metricsCampaigns());
    return rows.map((r) => ({
      key: r.key,
      status: r.status,
      currentStep: r.currentStep,
      paceUsersPerSecond: r.paceUsersPerSecond,
      admittedPpm: r.admittedPpm,
      guardrailVerdict: r.guardrailVerdict,
      counters: countersOf(r),
    }));
  }

  /**
   * One sampler pass in one transaction, serialised across workers: a raw sample per active
   * campaign, then raw → minute past `minuteCutoff` and minute → hour past `hourCutoff`.
   */
  async sampleAndDownsample(now: Date, cutoffs: { minute: Date; hour: Date }): Promise<{ sampled: number; toMinute: number; toHour: number }> {
    return this.prisma.transaction(async (tx) => {
      await this.run(progressSql.samplerLock(), tx);
      const sampled = await this.exec(progressSql.insertSamples(now), tx);
      const toMinute = await this.exec(progressSql.downsample('raw', 'minute', 'minute', cutoffs.minute), tx);
      const toHour = await this.exec(progressSql.downsample('minute', 'hour', 'hour', cutoffs.hour), tx);
      return { sampled, toMinute, toHour };
    });
  }

  private exec(sql: Prisma.Sql, db: Db): Promise<number> {
    this.log.record(sql);
    return db.$executeRaw(sql);
  }
}
