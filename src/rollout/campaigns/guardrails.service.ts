import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { AuditService } from '../../core/audit/audit.service';
import { Clock } from '../../core/clock/clock';
import { DomainError } from '../../core/errors/domain-error';
import { cutoverMetrics } from '../../core/metrics/metrics';
import { CampaignsService } from './campaigns.service';
import { GuardrailSignalsService } from './guardrail-signals.service';
import { describeTrip, evaluateGuardrails, newFailures, newTrips, sameTrip, type BacklogFigures, type GuardrailEvaluation, type Trip, type WindowFigures } from './guardrails';
import { nextPace, paceDirection, type AimdParams, type PaceDirection } from './pace-aimd';
import type { GuardrailVerdict } from './ramp-plan';
import { RampRepository, type GuardrailStateJson, type RampCampaign } from './ramp.repository';
import { RAMP_ACTOR } from './ramp.service';

export interface HealthCheck {
  verdict: GuardrailVerdict;
  evaluation: GuardrailEvaluation;
  windows: Record<string, WindowFigures>;
  pace: number;
  paceDirection: PaceDirection | null;
  /** the campaign was paused or halted by this check */
  stopped: boolean;
}

/**
 * Guardrails and pace, once per tick per campaign: measure the windows, decide, record the
 * state (compare-and-set, so one controller of several records and audits a trip), adapt
 * the pace (AIMD), and pause or halt through the campaign lifecycle (the real kill switch).
 */
@Injectable()
export class GuardrailsService {
  private readonly log = new Logger(GuardrailsService.name);

  constructor(
    private readonly repo: RampRepository,
    private readonly campaigns: CampaignsService,
    private readonly audit: AuditService,
    private readonly signals: GuardrailSignalsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(c: RampCampaign, backlog: BacklogFigures): Promise<HealthCheck> {
    const prev = c.guardrailState;
    const windows = await this.windows(c, prev.windowStartAt ? new Date(prev.windowStartAt) : null);
    const paceWaitSeconds = this.paceWait(c, backlog);
    const signals = await this.signals.read(c.rules, prev.walSample);
    const evaluation = evaluateGuardrails(c.rules, (w) => windows[String(w)], { ...backlog, paceWaitSeconds }, (i) => signals.readings[i]);
    const verdict = evaluation.verdict;
    const stop = verdict === 'pause' || verdict === 'halt';
    const dir = this.direction(c, verdict, backlog, paceWaitSeconds);
    const pace = dir ? nextPace(c.paceUsersPerSecond, dir, this.aimd(c)) : c.paceUsersPerSecond;
    const next: GuardrailStateJson = {
      healthy: verdict === 'ok',
      throttled: verdict === 'throttle',
      verdict,
      trips: evaluation.trips,
      measured: evaluation.measured,
      failures: evaluation.failures,
      ...(signals.walSample && { walSample: signals.walSample }),
      evaluatedAt: this.clock.now().toISOString(),
      windowStartAt: stop ? (await this.repo.dbNow()).toISOString() : (prev.windowStartAt ?? null),
      paceDirection: dir ?? undefined,
      rampWait: prev.rampWait ?? null,
    };
    const fresh = newTrips(prev.trips ?? [], evaluation.trips);
    const cleared = (prev.trips ?? []).filter((t) => !evaluation.trips.some((n) => sameTrip(n, t)));
    const failed = newFailures(prev.failures ?? [], evaluation.failures);
    const recovered = (prev.failures ?? []).length > 0 && evaluation.failures.length === 0;
    const won = await this.repo.prisma.transaction(async (tx) => {
      if (!(await this.repo.casObserved(c.id, prev, next, pace, tx))) return false;
      for (const trip of fresh) {
        await this.audit.record(
          { actor: RAMP_ACTOR, action: 'campaign.guardrail_tripped', entityType: 'campaign', entityId: String(c.id), before: { trips: prev.trips ?? [] }, after: { trip, measured: evaluation.measured, windows, backlog, pace }, reason: describeTrip(trip) },
          tx,
        );
      }
      for (const f of failed) {
        const reason = `${f.metric}${f.query ? ` ${f.query}` : ''} could not be read: ${f.error} → ${f.outcome === 'hold' ? 'step held' : 'ignored'}`;
        await this.audit.record(
          { actor: RAMP_ACTOR, action: 'campaign.guardrail_query_failed', entityType: 'campaign', entityId: String(c.id), before: { failures: prev.failures ?? [] }, after: { failure: f, measured: evaluation.measured }, reason },
          tx,
        );
      }
      if ((cleared.length > 0 || recovered) && evaluation.trips.length === 0 && evaluation.failures.length === 0) {
        await this.audit.record(
          { actor: RAMP_ACTOR, action: 'campaign.guardrail_cleared', entityType: 'campaign', entityId: String(c.id), before: { trips: prev.trips ?? [] }, after: { trips: [], measured: evaluation.measured, windows, backlog, pace }, reason: 'guardrails healthy again' },
          tx,
        );
      }
      return true;
    });
    if (won) for (const t of fresh) cutoverMetrics.guardrailTrips.inc({ campaign: c.key, metric: t.metric, action: t.action });
    const stopped = won && stop && c.status === 'running' ? await this.stop(c, verdict as 'pause' | 'halt', evaluation.trips) : false;
    return { verdict, evaluation, windows, pace, paceDirection: dir, stopped };
  }

  /** Pause or halt through the lifecycle (audited there as well); a lost race is retried once. */
  private async stop(c: RampCampaign, verdict: 'pause' | 'halt', trips: Trip[]): Promise<boolean> {
    const reason = `guardrail ${trips.filter((t) => t.action === verdict).map(describeTrip).join('; ')}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const cur = await this.campaigns.get(String(c.id));
      if (cur.status !== 'running') return false;
      try {
        await this.campaigns.act(String(c.id), verdict, cur.version, RAMP_ACTOR, reason);
        this.log.warn(`campaign ${c.key}: ${verdict} by ${reason}`);
        return true;
      } catch (err) {
        if (!(err instanceof DomainError) || err.status !== 409 || attempt === 1) throw err;
      }
    }
    return false;
  }

  private async windows(c: RampCampaign, since: Date | null): Promise<Record<string, WindowFigures>> {
    const out: Record<string, WindowFigures> = {};
    for (const w of new Set(c.rules.map((r) => r.windowSeconds))) out[String(w)] = await this.repo.window(c.id, w, since);
    return out;
  }

  /** A hold keeps the pace where it is; a throttle backs off; otherwise AIMD on the queue age. */
  private direction(c: RampCampaign, verdict: GuardrailVerdict, backlog: BacklogFigures, paceWaitSeconds: number): PaceDirection | null {
    if (c.steps.length === 0 && c.rules.length === 0) return null;
    if (verdict === 'hold') return 'hold';
    return paceDirection({ throttled: verdict === 'throttle', oldestQueuedAgeSeconds: backlog.oldestQueuedAgeSeconds, paceWaitSeconds }, this.aimd(c));
  }

  private aimd(c: RampCampaign): AimdParams {
    const r = this.config.ramp;
    return {
      maxUsersPerSecond: c.pacing.maxUsersPerSecond > 0 ? c.pacing.maxUsersPerSecond : r.paceCeilingUsersPerSecond,
      minUsersPerSecond: r.paceMinUsersPerSecond,
      increaseRatio: r.paceIncreaseRatio,
      decreaseFactor: r.paceDecreaseFactor,
      targetQueueAgeSeconds: r.paceTargetQueueAgeSeconds,
    };
  }

  private paceWait(c: RampCampaign, b: BacklogFigures): number {
    return c.paceUsersPerSecond > 0 ? (b.backlogBatches * c.pacing.batchSize) / c.paceUsersPerSecond : 0;
  }
}
