import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { Clock } from '../../core/clock/clock';
import type { JobStatus } from '../../core/queue/queue.constants';
import { describeTrip } from './guardrails';
import { GuardrailsService, type HealthCheck } from './guardrails.service';
import { HoldsService } from './holds.service';
import { decideCompletion, decideRampTick, holdRemainingMs, stepPpm, type CapabilityFigures, type RampDecision } from './ramp-plan';
import { RampRepository, type RampCampaign } from './ramp.repository';
import { RampService } from './ramp.service';

export interface TickResult {
  campaignId: string;
  decision: RampDecision | null;
  advanced: boolean;
  completed?: boolean;
  health: Pick<HealthCheck, 'verdict' | 'pace' | 'stopped'> | null;
}

/**
 * The ramp controller: one tick per running or paused campaign. Guardrails first (they may
 * pause or halt), then the flag is re-aligned with the step if a crash left them apart, then
 * the pure decision (decideRampTick) and, when it says so, one compare-and-set advance.
 */
@Injectable()
export class RampControllerService {
  private readonly log = new Logger(RampControllerService.name);

  constructor(
    private readonly repo: RampRepository,
    private readonly ramp: RampService,
    private readonly guardrails: GuardrailsService,
    private readonly holds: HoldsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Every active campaign; one failing campaign does not stop the others (its error is rethrown at the end). */
  async tickAll(): Promise<JobStatus> {
    let any = false;
    let firstError: unknown = null;
    for (const id of await this.repo.activeIds()) {
      try {
        const r = await this.tick(id);
        any = any || r.advanced || Boolean(r.completed) || Boolean(r.health?.stopped);
      } catch (err) {
        this.log.error(`ramp tick of campaign ${id} failed: ${(err as Error)?.stack ?? String(err)}`);
        firstError ??= err;
      }
    }
    if (firstError) throw new Error(`a ramp tick failed: ${(firstError as Error)?.message ?? String(firstError)}`, { cause: firstError });
    return any ? 'done' : 'skipped';
  }

  async tick(id: bigint): Promise<TickResult> {
    const c = await this.repo.find(id);
    if (!c || (c.status !== 'running' && c.status !== 'paused')) return { campaignId: String(id), decision: null, advanced: false, health: null };
    if (c.materializedAt) await this.holds.reapplyStale(c.id);
    const flag = await this.ramp.flagOf(c);
    const backlog = await this.repo.backlog(c.id);
    const health = c.status === 'running' ? await this.guardrails.check(c, backlog) : null;
    const result: TickResult = { campaignId: String(id), decision: null, advanced: false, health: health && { verdict: health.verdict, pace: health.pace, stopped: health.stopped } };
    if (health?.stopped) return result;
    await this.realign(c.id, flag);
    const now = this.clock.now();
    const decision = decideRampTick(
      c,
      {
        backlogBatches: backlog.backlogBatches,
        maxBacklogBatches: this.config.ramp.advanceMaxBacklogBatches,
        guardrail: health?.verdict ?? 'ok',
        flagKilled: flag.killed,
        materialized: c.materializedAt !== null,
        capability: await this.nextStepCapability(c),
      },
      now,
    );
    result.decision = decision;
    if (decision.kind === 'wait' && decision.reason === 'final_step') {
      result.completed = await this.completeIfDone(c, backlog.backlogBatches, now);
      if (result.completed) return result;
    }
    await this.ramp.noteWait(c, decision.kind === 'wait' ? { reason: decision.reason, detail: decision.reason === 'guardrail' && health ? holdingDetail(health) : decision.detail } : null);
    if (decision.kind !== 'advance') return result;
    const figures = {
      decidedAt: now.toISOString(),
      heldMs: c.stepEnteredAt ? now.getTime() - c.stepEnteredAt.getTime() : null,
      holdRemainingMs: holdRemainingMs(c, now),
      plannedPpm: c.plannedPpm,
      backlog,
      guardrails: health ? { verdict: health.verdict, measured: health.evaluation.measured } : null,
      paceUsersPerSecond: health?.pace ?? c.paceUsersPerSecond,
    };
    result.advanced = await this.ramp.advance(c, decision.to, decision.why, figures);
    return result;
  }

  /** The next step's users and capable users, read only when that step has a capability floor. */
  private async nextStepCapability(c: RampCampaign): Promise<CapabilityFigures | null> {
    const next = c.steps[c.currentStep + 1];
    return next?.minCapablePercent ? this.repo.capability(c.id, next.ppm) : null;
  }

  /** At the last step: completes the campaign when nothing is left (decideCompletion); whether it did. */
  private async completeIfDone(c: RampCampaign, backlogBatches: number, now: Date): Promise<boolean> {
    if (!c.autoComplete || c.status !== 'running') return false;
    const pending = await this.repo.pending(c.id);
    const d = decideCompletion(c, { autoComplete: c.autoComplete, backlogBatches, ...pending }, now);
    if (!d.complete) return false;
    const done = await this.ramp.complete(c, d.why);
    if (done) this.log.log(`campaign ${c.key} completed: ${d.why}`);
    return done;
  }

  /**
   * The flag follows the campaign's step; a crash between the two writes is healed here. The
   * campaign is read again AFTER the flag, so that a step another controller just entered
   * (campaign written, flag not yet) is never undone.
   */
  private async realign(id: bigint, flag: { key: string; rolloutPpm: number; killed: boolean; version: number }): Promise<void> {
    const c = await this.repo.find(id);
    if (!c || c.currentStep < 0) return;
    const ppm = stepPpm(c.steps, c.currentStep);
    if (!flag.killed && flag.rolloutPpm !== ppm && (await this.ramp.syncFlag(c, flag.key, flag.version))) {
      this.log.warn(`campaign ${c.key}: flag ${flag.key} was at ${flag.rolloutPpm} ppm, step ${c.currentStep + 1} says ${ppm}; re-aligned`);
    }
    // a planner round that read the flag just before a lowering may have planned above the step
    if (c.plannedPpm > ppm) await this.ramp.enforceCeiling(c);
  }
}

/** Which rules hold the ramp, in words: the trips, and the failed reads that hold. */
function holdingDetail(h: HealthCheck): string {
  const why = [
    ...h.evaluation.trips.map(describeTrip),
    ...h.evaluation.failures.filter((f) => f.outcome === 'hold').map((f) => `${f.metric}${f.query ? ` ${f.query}` : ''} unreadable (${f.error}) → hold`),
  ];
  return `guardrails say ${h.verdict}${why.length > 0 ? `: ${why.join('; ')}` : ''}`;
}
