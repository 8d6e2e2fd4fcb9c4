import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { planJobSpec } from '../campaigns/campaign-jobs';
import type { BatchJob } from '../../core/queue/job-registry';
import type { Pacing } from '../campaigns/campaigns.types';
import { LOCK_TIMEOUT, hasCode } from '../../core/errors/error-chain';
import { cutoverMetrics } from '../../core/metrics/metrics';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { RatchetService } from '../../flags/ratchet.service';
import { BackendUnavailableError, MigrationBackend, idempotencyKeyFor, type BackendOutcome } from './backend/backend.port';
import { BatchesRepository, CLAIM_LOCK_TIMEOUT, type BatchRow, type ClaimedUser, type Outcome } from './batches.repository';
import { Pacer } from './pacer';

/** Thrown after a commit that sent users back to `eligible`: BullMQ retries the job with backoff. */
export class RetryPendingError extends Error {
  constructor(readonly users: number) {
    super(`${users} users failed transiently and wait for a retry`);
    this.name = 'RetryPendingError';
  }
}

/** The job cannot proceed now (campaign paused, pace exhausted): park it for `delayMs`. */
export interface Parking {
  park(delayMs: number): Promise<never>;
}

const MAX_PACE_WAIT_MS = 2000;

@Injectable()
export class MigratorService {
  private readonly log = new Logger(MigratorService.name);

  constructor(
    private readonly batches: BatchesRepository,
    private readonly backend: MigrationBackend,
    private readonly ratchet: RatchetService,
    private readonly pacer: Pacer,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Claim (one CAS statement), one backend call, record (one transaction), then the ratchet. */
  async migrateBatch(job: BatchJob, parking: Parking): Promise<JobStatus> {
    const batch = await this.batches.find(job.batchId);
    if (!batch || batch.status === 'done' || batch.status === 'dropped') return 'skipped';
    const campaign = batch.campaign;
    if (campaign.campaignStatus === 'paused') return parking.park(this.config.migration.plannerIntervalMs);
    if (campaign.campaignStatus !== 'running') {
      await this.batches.finishIfIdle(batch.id, 'dropped');
      return 'skipped';
    }
    const pacing = campaign.pacing;
    await this.pace(batch, pacing, campaign.paceUsersPerSecond, parking);
    const started = process.hrtime.bigint();
    const claimed = await this.batches.claim(batch, this.config.migration.leaseMs).catch((err: unknown) => {
      if (!hasCode(err, LOCK_TIMEOUT)) throw err;
      // nothing was claimed: the batch waits a planner interval, without spending an attempt
      this.log.debug(`batch ${batch.id}: claim met locked rows for ${CLAIM_LOCK_TIMEOUT}; parked`);
      return null;
    });
    if (claimed === null) return parking.park(this.config.migration.plannerIntervalMs);
    if (claimed.length === 0) {
      await this.batches.finishIfIdle(batch.id, 'done');
      return 'skipped';
    }
    const claimedAt = process.hrtime.bigint();
    const { outcomes, backendMs, backendErrors } = await this.callBackend(batch, claimed);
    const recordAt = process.hrtime.bigint();
    const result = await this.batches.record(batch, outcomes, { maxAttempts: pacing.maxAttempts, backendMs, backendErrors });
    const recordedAt = process.hrtime.bigint();
    cutoverMetrics.batchDuration.observe(Number(recordedAt - started) / 1e9);
    if (result.enabled.length > 0) {
      cutoverMetrics.usersEnabled.inc({ campaign: campaign.key }, result.enabled.length);
      await this.ratchet.recordEnabled(campaign.flagId, result.enabled);
    }
    const ms = (a: bigint, b: bigint) => Math.round(Number(b - a) / 1e6);
    this.log.debug(
      `batch ${batch.id}: ${claimed.length} claimed in ${ms(started, claimedAt)} ms, backend ${backendMs} ms, record ${ms(recordAt, recordedAt)} ms, ratchet ${ms(recordedAt, process.hrtime.bigint())} ms`,
    );
    await this.jobs.add(QUEUES.control, planJobSpec(batch.campaignId, 'refill'));
    if (result.retry > 0 && (result.campaignStatus === 'running' || result.campaignStatus === 'paused')) throw new RetryPendingError(result.retry);
    return result.failed > 0 ? 'partial' : 'done';
  }

  private async pace(batch: BatchRow, pacing: Pacing, adaptivePace: number, parking: Parking): Promise<void> {
    const limits = [pacing.maxUsersPerSecond, adaptivePace].filter((n) => n > 0);
    if (limits.length === 0) return;
    const expected = batch.userIds.length > 0 ? batch.userIds.length : pacing.batchSize;
    const wait = await this.pacer.reserve(batch.campaignId, batch.id, expected, Math.min(...limits), MAX_PACE_WAIT_MS);
    if (wait > MAX_PACE_WAIT_MS) await parking.park(wait);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** One call for the whole batch; a failed call makes every user a transient failure. */
  private async callBackend(batch: BatchRow, claimed: readonly ClaimedUser[]) {
    const t0 = Date.now();
    let results: BackendOutcome[];
    let backendErrors = 0;
    try {
      results = await this.backend.enableBatch({
        campaignId: String(batch.campaignId),
        batchKey: `${batch.campaignId}-${batch.id}-${t0}`,
        users: claimed.map((u) => ({ userId: String(u.userId), idempotencyKey: idempotencyKeyFor(batch.campaignId, u.userId) })),
      });
    } catch (err) {
      const kind = err instanceof BackendUnavailableError ? err.kind : 'error';
      this.log.warn(`backend call for batch ${batch.id} failed (${kind}): ${(err as Error)?.message}`);
      results = claimed.map((u) => ({ userId: String(u.userId), status: 'transient', reason: `backend call failed: ${(err as Error)?.message ?? kind}` }));
      cutoverMetrics.backendErrors.inc({ kind });
      backendErrors = 1;
    }
    const backendMs = Date.now() - t0;
    cutoverMetrics.backendLatency.observe(backendMs / 1000);
    const outcomes: Outcome[] = results.map((r) => ({
      userId: BigInt(r.userId),
      outcome: r.status,
      reason: r.status === 'enabled' ? null : r.reason,
    }));
    for (const o of outcomes) if (o.outcome !== 'enabled') cutoverMetrics.backendErrors.inc({ kind: o.outcome });
    return { outcomes, backendMs, backendErrors };
  }
}
