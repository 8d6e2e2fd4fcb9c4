import { Injectable } from '@nestjs/common';
import { Clock } from '../core/clock/clock';
import { NotFoundError } from '../core/errors/domain-error';
import { computeProgress, totalOf } from './progress-math';
import { ProgressRepository } from './progress.repository';
import { SingleFlight } from './single-flight';
import type { HistoryQuery, OverviewQuery } from './progress.schemas';
import type { CampaignRow, Progress, ProgressSampleRow, SampleResolution } from './progress.types';

const RECENT_BATCHES_MS = 5 * 60_000;
/** a little more than 5 minutes, so that the 5-minute rate has a sample at or before its start */
const RECENT_SAMPLES_MS = 5 * 60_000 + 30_000;
const DEFAULT_HISTORY_MS = 60 * 60_000;

export type CampaignRef = bigint | string;

export interface HistoryPoint {
  at: string;
  resolution: SampleResolution;
  counts: ProgressSampleRow['states'] & { total: number };
  throughputPerSecond: number;
  paceUsersPerSecond: number;
  admittedPpm: number;
}

/** Progress of a campaign from a constant number of small reads (see progress.sql.ts). */
@Injectable()
export class ProgressService {
  private readonly reads = new SingleFlight<Progress>();

  constructor(
    private readonly repo: ProgressRepository,
    private readonly clock: Clock,
  ) {}

  async getCampaign(ref: CampaignRef): Promise<CampaignRow> {
    const row = await this.repo.findCampaign(typeof ref === 'bigint' ? { id: ref } : { key: ref });
    if (!row) throw new NotFoundError('campaign', ref);
    return row;
  }

  /** Concurrent readers of one campaign share one read (watchers, dashboards, streams). */
  getProgress(ref: CampaignRef): Promise<Progress> {
    return this.reads.run(String(ref), () => this.readProgress(ref));
  }

  private async readProgress(ref: CampaignRef): Promise<Progress> {
    const now = this.clock.now();
    const inputs = await this.repo.progressInputs(typeof ref === 'bigint' ? { id: ref } : { key: ref }, now, {
      batches: new Date(now.getTime() - RECENT_BATCHES_MS),
      samples: new Date(now.getTime() - RECENT_SAMPLES_MS),
    });
    if (!inputs) throw new NotFoundError('campaign', ref);
    return computeProgress(inputs, now);
  }

  async history(ref: CampaignRef, q: HistoryQuery) {
    const campaign = await this.getCampaign(ref);
    const since = q.since ?? new Date(this.clock.nowMs() - DEFAULT_HISTORY_MS);
    const resolutions: SampleResolution[] = q.resolution === 'mixed' ? ['raw', 'minute', 'hour'] : [q.resolution];
    const rows = await this.repo.history(campaign.id, { resolutions, since, limit: q.limit });
    const points: HistoryPoint[] = rows.map((r) => ({
      at: r.at.toISOString(),
      resolution: r.resolution,
      counts: { ...r.states, total: totalOf(r.states) },
      throughputPerSecond: r.throughputPerSecond,
      paceUsersPerSecond: r.paceUsersPerSecond,
      admittedPpm: r.admittedPpm,
    }));
    return { campaign: { id: campaign.id.toString(), key: campaign.key }, resolution: q.resolution, since: since.toISOString(), points };
  }

  async overview(q: OverviewQuery) {
    const rows = await this.repo.overview(q.cursor ?? null, q.limit);
    const items = rows.map((r) => {
      const total = totalOf(r.counters.states);
      return {
        id: r.id.toString(),
        key: r.key,
        name: r.name,
        status: r.status,
        version: r.version,
        currentStep: r.currentStep,
        admittedPpm: r.admittedPpm,
        counts: { ...r.counters.states, total },
        enabledShare: total > 0 ? r.counters.states.enabled / Math.max(total, Number(r.populationSize)) : 0,
        updatedAt: r.updatedAt.toISOString(),
      };
    });
    return { items, nextCursor: items.length === q.limit ? items[items.length - 1].id : null };
  }
}
