import { Injectable, Logger } from '@nestjs/common';
import { DependencyChecks } from '../core/health/dependency-checks';
import { JobsService } from '../core/queue/jobs.service';
import { ALL_QUEUES } from '../core/queue/queue.constants';
import { cutoverMetrics, enableDefaultMetrics, metricsRegistry } from '../core/metrics/metrics';
import { MetricsLeader } from './metrics-leader';
import { ProgressRepository, type CampaignMetricsRow } from './progress.repository';
import { demandUsers } from './progress-math';
import { ProgressService } from './progress.service';
import { STATES } from './progress.types';

/** Below the chart's scrape timeout (10 s): a dependency that hangs must not fail the whole scrape. */
const FILL_TIMEOUT_MS = 3000;
const STATUSES = ['running', 'paused', 'halted', 'completed'] as const;
const VERDICTS = ['ok', 'hold', 'throttle', 'pause', 'halt'] as const;

/** Figures of the whole installation: exported by one replica only. */
const GLOBAL_GAUGES = (
  [
    'users', 'campaignStatus', 'guardrailVerdict', 'rampStep', 'paceUsersPerSecond', 'campaignAdmittedPpm', 'campaignThroughput',
    'campaignEta', 'campaignBacklogBatches', 'campaignOldestQueuedAge', 'campaignDemandUsers', 'queueDepth', 'queueOldestWaitingAge',
  ] as const
).map((name) => cutoverMetrics[name]);

/**
 * Fills the scrape-time gauges from PostgreSQL (counter rows and campaign rows, never user rows)
 * and Redis (queue counts), then renders the registry. Only one API replica fills and exports
 * these installation-wide gauges (MetricsLeader), so that a sum over pods never counts users
 * twice; every replica exports its own metrics (evaluations, dependencies, process). A
 * dependency that does not answer leaves its gauges as they were and shows in
 * `cutover_dependency_up`; the scrape itself still succeeds.
 */
@Injectable()
export class MetricsService {
  private readonly log = new Logger(MetricsService.name);

  constructor(
    private readonly repo: ProgressRepository,
    private readonly progress: ProgressService,
    private readonly jobs: JobsService,
    private readonly dependencies: DependencyChecks,
    private readonly leader: MetricsLeader,
  ) {
    enableDefaultMetrics();
  }

  get contentType(): string {
    return metricsRegistry.contentType;
  }

  async render(): Promise<string> {
    const leading = await this.leader.claim();
    if (!leading) for (const g of GLOBAL_GAUGES) g.reset();
    const fills = await Promise.allSettled([
      leading ? withinMs(this.fillCampaignGauges(), FILL_TIMEOUT_MS, 'campaign gauges') : undefined,
      leading ? withinMs(this.fillQueueGauges(), FILL_TIMEOUT_MS, 'queue gauges') : undefined,
      this.dependencies.check(),
    ]);
    for (const f of fills) if (f.status === 'rejected') this.log.warn(`a metrics source failed: ${String((f.reason as Error)?.message ?? f.reason)}`);
    return metricsRegistry.metrics();
  }

  private async fillCampaignGauges(): Promise<void> {
    const rows = await this.repo.metricsCampaigns();
    const m = cutoverMetrics;
    for (const g of [m.users, m.campaignStatus, m.guardrailVerdict]) g.reset();
    for (const r of rows) {
      for (const state of STATES) m.users.set({ campaign: r.key, state }, r.counters.states[state]);
      for (const status of STATUSES) m.campaignStatus.set({ campaign: r.key, status }, r.status === status ? 1 : 0);
      for (const verdict of VERDICTS) m.guardrailVerdict.set({ campaign: r.key, verdict }, r.guardrailVerdict === verdict ? 1 : 0);
      m.rampStep.set({ campaign: r.key }, r.currentStep);
      m.paceUsersPerSecond.set({ campaign: r.key }, r.paceUsersPerSecond);
      m.campaignAdmittedPpm.set({ campaign: r.key }, r.admittedPpm);
    }
    await this.fillRunning(rows.filter((r) => r.status === 'running'));
  }

  /** Throughput, ETA and backlog as the progress document computes them, for running campaigns only. */
  private async fillRunning(running: CampaignMetricsRow[]): Promise<void> {
    const m = cutoverMetrics;
    const docs = await Promise.all(running.map((r) => this.progress.getProgress(r.key)));
    for (const g of [m.campaignThroughput, m.campaignEta, m.campaignBacklogBatches, m.campaignOldestQueuedAge, m.campaignDemandUsers]) g.reset();
    for (const p of docs) {
      const campaign = p.campaign.key;
      if (p.throughput.perSecond1m !== null) m.campaignThroughput.set({ campaign }, p.throughput.perSecond1m);
      if (p.eta.seconds !== null) m.campaignEta.set({ campaign }, p.eta.seconds);
      m.campaignBacklogBatches.set({ campaign }, p.backlog.batches);
      m.campaignDemandUsers.set({ campaign }, demandUsers(p));
      m.campaignOldestQueuedAge.set({ campaign }, p.backlog.oldestQueuedAgeSeconds ?? 0);
    }
  }

  private async fillQueueGauges(): Promise<void> {
    const depths = await Promise.all(ALL_QUEUES.map(async (queue) => ({ queue, depth: await this.jobs.depth(queue) })));
    for (const { queue, depth } of depths) {
      for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) {
        cutoverMetrics.queueDepth.set({ queue, state }, depth[state]);
      }
      cutoverMetrics.queueOldestWaitingAge.set({ queue }, (depth.oldestWaitingAgeMs ?? 0) / 1000);
    }
  }
}

async function withinMs<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
