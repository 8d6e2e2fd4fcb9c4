import { randomBytes } from 'node:crypto';
import { createPrismaClient } from '../../src/core/database/prisma.service';
import type { PrismaClient } from '../../src/generated/prisma/client';
import type { MigrationStateName, SampleResolution } from '../../src/progress/progress.types';

export type StateDeltas = Partial<Record<MigrationStateName, number>>;
export type RecoveryDeltas = Partial<Record<'recoveryPrompted' | 'recoveryPin' | 'recoveryCode' | 'recoveryCloud' | 'recoveryKeychain', number>>;

export interface FixtureCampaign {
  key?: string;
  status?: 'draft' | 'running' | 'paused' | 'halted' | 'completed';
  rampPlan?: Array<{ ppm: number; holdMinutes: number; requiresApproval: boolean; pointOfNoReturn: boolean }>;
  currentStep?: number;
  stepEnteredAt?: Date;
  approvedStep?: number;
  admittedPpm?: number;
  paceUsersPerSecond?: number;
  guardrails?: unknown;
  guardrailState?: unknown;
  populationSize?: number;
  haltedAt?: Date;
  haltReason?: string;
  haltToLastCommitMs?: number;
}

/**
 * Writes the rows the migration engine writes (campaigns, sharded counters, batches,
 * samples, histogram bins) straight through Prisma, so that progress can be tested on its
 * own. Counter deltas go to a random shard, as the engine does.
 */
export class ProgressFixtures {
  readonly prisma: PrismaClient;
  private flagId?: bigint;

  constructor(databaseUrl: string) {
    this.prisma = createPrismaClient(databaseUrl, 2);
  }

  async campaign(c: FixtureCampaign = {}): Promise<{ id: bigint; key: string }> {
    this.flagId ??= (
      await this.prisma.flag.create({
        data: { key: `fx-${randomBytes(4).toString('hex')}`, kind: 'boolean', variants: { on: true, off: false }, offVariant: 'off', rolloutVariant: 'on', salt: 'fx' },
      })
    ).id;
    const key = c.key ?? `fx-campaign-${randomBytes(4).toString('hex')}`;
    const row = await this.prisma.campaign.create({
      data: {
        key,
        name: `Fixture ${key}`,
        flagId: this.flagId,
        status: c.status ?? 'running',
        pacing: { batchSize: 1000, maxUsersPerSecond: 5000, concurrency: 4, maxAttempts: 5, backlogBatches: 8 },
        rampPlan: c.rampPlan ?? [],
        currentStep: c.currentStep ?? -1,
        stepEnteredAt: c.stepEnteredAt,
        approvedStep: c.approvedStep ?? -1,
        admittedPpm: c.admittedPpm ?? 0,
        paceUsersPerSecond: c.paceUsersPerSecond ?? 0,
        guardrails: (c.guardrails ?? []) as object,
        guardrailState: (c.guardrailState ?? {}) as object,
        populationSize: BigInt(c.populationSize ?? 0),
        haltedAt: c.haltedAt,
        haltReason: c.haltReason,
        haltToLastCommitMs: c.haltToLastCommitMs,
        startedAt: c.status && c.status !== 'draft' ? new Date() : undefined,
      },
    });
    await this.prisma.progressCounter.createMany({ data: Array.from({ length: 16 }, (_, shard) => ({ campaignId: row.id, shard })) });
    return { id: row.id, key };
  }

  /** Adds deltas to one random shard, like one engine statement. */
  async addCounters(campaignId: bigint, deltas: StateDeltas & RecoveryDeltas): Promise<void> {
    const shard = Math.floor(Math.random() * 16);
    const data = Object.fromEntries(Object.entries(deltas).map(([k, v]) => [k, { increment: BigInt(v ?? 0) }]));
    await this.prisma.progressCounter.update({ where: { campaignId_shard: { campaignId, shard } }, data });
  }

  async batch(campaignId: bigint, b: { status: 'queued' | 'running' | 'done' | 'dropped'; queuedAt?: Date; startedAt?: Date; finishedAt?: Date; claimed?: number; enabled?: number; failed?: number; backendErrors?: number }) {
    await this.prisma.migrationBatch.create({
      data: {
        campaignId,
        fromBucket: 0,
        toBucket: 1000,
        status: b.status,
        queuedAt: b.queuedAt ?? new Date(),
        startedAt: b.startedAt,
        finishedAt: b.finishedAt,
        claimed: b.claimed ?? 0,
        enabled: b.enabled ?? 0,
        failed: b.failed ?? 0,
        backendErrors: b.backendErrors ?? 0,
      },
    });
  }

  async sample(campaignId: bigint, at: Date, states: StateDeltas, extra: { resolution?: SampleResolution; throughputPerSecond?: number } = {}) {
    await this.prisma.progressSample.create({
      data: {
        campaignId,
        at,
        resolution: extra.resolution ?? 'raw',
        throughputPerSecond: extra.throughputPerSecond ?? 0,
        ...Object.fromEntries(Object.entries(states).map(([k, v]) => [k, BigInt(v ?? 0)])),
      },
    });
  }

  /** Bucket histogram bins (1,000 ppm each) with a user count and a capable count. */
  async histogram(campaignId: bigint, bins: Array<{ bin: number; total: number; capable: number }>) {
    await this.prisma.bucketHistogram.createMany({ data: bins.map((b) => ({ campaignId, bin: b.bin, total: BigInt(b.total), capable: BigInt(b.capable) })) });
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect();
  }
}
