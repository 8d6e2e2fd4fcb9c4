import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { batchJobSpec } from '../campaigns/campaign-jobs';
import { AuditService } from '../../core/audit/audit.service';
import { SYSTEM_ACTOR } from '../../core/auth/auth.types';
import { cutoverMetrics } from '../../core/metrics/metrics';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { addCounters, type CounterColumn, type CounterDelta, type Counters } from './counters';
import { MaintenanceRepository } from './maintenance.repository';

const REAP_LIMIT = 200;

@Injectable()
export class MaintenanceService {
  private readonly log = new Logger(MaintenanceService.name);

  constructor(
    private readonly repo: MaintenanceRepository,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The reaper: batches whose worker died hand their leased rows back and run again. */
  async reap(): Promise<JobStatus> {
    const leaseMs = this.config.migration.leaseMs;
    const stale = await this.repo.staleBatches(leaseMs, REAP_LIMIT);
    let reaped = 0;
    for (const b of stale) {
      const r = await this.repo.prisma.transaction((tx) => this.repo.reapBatch(b, leaseMs, tx));
      if (!r) continue;
      reaped++;
      this.log.warn(`reaped batch ${b.id} of campaign ${b.campaignId}: ${r.returned} users back to eligible`);
      if (r.queuedAtMs >= 0) {
        await this.jobs.add(QUEUES.migration, batchJobSpec(b.campaignId, { id: b.id, queuedAtMs: r.queuedAtMs }, { maxAttempts: this.config.migration.maxAttempts, backoffMs: this.config.migration.retryBackoffMs }));
      }
    }
    return reaped > 0 ? 'done' : 'skipped';
  }

  async reconcileAll(): Promise<JobStatus> {
    let repaired = false;
    for (const c of await this.repo.campaignsToReconcile()) repaired = (await this.reconcile(c.id, c.key)) || repaired;
    return repaired ? 'done' : 'skipped';
  }

  /** Compares counters with table truth; repairs and reports any drift. Returns whether it drifted. */
  async reconcile(campaignId: bigint, campaignKey: string): Promise<boolean> {
    const { counters, truth } = await this.repo.countersAndTruth(campaignId);
    const drift = diff(truth, counters);
    if (Object.keys(drift).length === 0) return false;
    await this.repo.prisma.transaction(async (tx) => {
      await addCounters(tx, campaignId, drift, 0);
      await this.audit.record(
        { actor: SYSTEM_ACTOR('reconciler'), action: 'campaign.counters_repaired', entityType: 'campaign', entityId: String(campaignId), before: counters, after: truth, reason: `drift ${JSON.stringify(drift)}` },
        tx,
      );
    });
    const total = Object.values(drift).reduce((n, v) => n + Math.abs(v ?? 0), 0);
    cutoverMetrics.counterDrift.inc({ campaign: campaignKey }, total);
    this.log.warn(`campaign ${campaignKey}: counters drifted by ${JSON.stringify(drift)}; repaired`);
    return true;
  }
}

function diff(truth: Counters, counters: Counters): CounterDelta {
  const out: CounterDelta = {};
  for (const k of Object.keys(truth) as CounterColumn[]) if (truth[k] !== counters[k]) out[k] = truth[k] - counters[k];
  return out;
}
