import { Injectable } from '@nestjs/common';
import { JobsService } from '../core/queue/jobs.service';
import { ALL_QUEUES } from '../core/queue/queue.constants';
import { cutoverMetrics, enableDefaultMetrics, metricsRegistry } from '../core/metrics/metrics';
import { ProgressRepository } from './progress.repository';
import { STATES } from './progress.types';

/**
 * Fills the scrape-time gauges from PostgreSQL (counter rows, never user rows) and Redis
 * (queue counts), then renders the registry. Only the API does this, so that a sum over
 * replicas never counts users twice.
 */
@Injectable()
export class MetricsService {
  constructor(
    private readonly repo: ProgressRepository,
    private readonly jobs: JobsService,
  ) {
    enableDefaultMetrics();
  }

  get contentType(): string {
    return metricsRegistry.contentType;
  }

  async render(): Promise<string> {
    await Promise.all([this.fillCampaignGauges(), this.fillQueueGauges()]);
    return metricsRegistry.metrics();
  }

  private async fillCampaignGauges(): Promise<void> {
    const rows = await this.repo.metricsCampaigns();
    const { users, rampStep, paceUsersPerSecond } = cutoverMetrics;
    users.reset();
    for (const r of rows) {
      for (const state of STATES) users.set({ campaign: r.key, state }, r.counters.states[state]);
      rampStep.set({ campaign: r.key }, r.currentStep);
      paceUsersPerSecond.set({ campaign: r.key }, r.paceUsersPerSecond);
    }
  }

  private async fillQueueGauges(): Promise<void> {
    const depths = await Promise.all(ALL_QUEUES.map(async (queue) => ({ queue, depth: await this.jobs.depth(queue) })));
    for (const { queue, depth } of depths) {
      for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) {
        cutoverMetrics.queueDepth.set({ queue, state }, depth[state]);
      }
    }
  }
}
