import type { CampaignRow, Progress, ProgressInputs, ProgressSampleRow, RampStepView, StateCounts } from './progress.types';
import { STATES } from './progress.types';
import { campaignEta, rampRate, remainingRanges } from '../rollout/campaigns/pace';
import { stepsOf } from '../rollout/campaigns/ramp-plan';
import { conversationCoverage } from './conversation-coverage';

/** Below this span two points say nothing useful about a rate. */
const MIN_SPAN_MS = 10_000;

export function totalOf(states: StateCounts): number {
  return STATES.reduce((sum, s) => sum + states[s], 0);
}

/**
 * Users enabled per second over `windowMs`: from the newest sample at least `windowMs` old
 * (or the oldest sample when history is shorter, if it spans at least 10 s) to now.
 */
export function throughputOver(
  samples: readonly Pick<ProgressSampleRow, 'at' | 'states'>[],
  now: { at: Date; enabled: number },
  windowMs: number,
): number | null {
  const cutoff = now.at.getTime() - windowMs;
  let base: Pick<ProgressSampleRow, 'at' | 'states'> | undefined;
  for (const s of samples) if (s.at.getTime() <= cutoff) base = s;
  base ??= samples[0];
  if (!base) return null;
  const spanMs = now.at.getTime() - base.at.getTime();
  if (spanMs < MIN_SPAN_MS) return null;
  return Math.max(0, ((now.enabled - base.states.enabled) * 1000) / spanMs);
}

/** Lenient reading of the ramp plan JSON: the rollout's own reader (it owns the validation). */
export function rampStepsOf(plan: unknown): RampStepView[] {
  return stepsOf(plan);
}

export function maxUsersPerSecondOf(pacing: unknown): number | null {
  const v = (pacing as { maxUsersPerSecond?: unknown } | null)?.maxUsersPerSecond;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function rampView(c: CampaignRow, nowMs: number): Progress['ramp'] {
  const steps = rampStepsOf(c.rampPlan);
  const current = c.currentStep >= 0 ? steps[c.currentStep] : undefined;
  let holdRemainingSeconds: number | null = null;
  if (current && c.stepEnteredAt) {
    holdRemainingSeconds = Math.max(0, Math.ceil(current.holdMinutes * 60 - (nowMs - c.stepEnteredAt.getTime()) / 1000));
  }
  const next = steps[c.currentStep + 1];
  const awaitingApproval = Boolean(next?.requiresApproval && c.approvedStep < c.currentStep + 1 && holdRemainingSeconds === 0);
  return {
    steps,
    currentStep: c.currentStep,
    approvedStep: c.approvedStep,
    stepEnteredAt: c.stepEnteredAt?.toISOString() ?? null,
    holdRemainingSeconds,
    awaitingApproval,
  };
}

/** Capable users with a bucket in [fromPpm, toPpm), the partial bins pro rata. */
export function capableIn(bins: readonly number[], fromPpm: number, toPpm: number): number {
  let n = 0;
  for (let b = Math.floor(fromPpm / 1000); b < bins.length && b * 1000 < toPpm; b++) {
    const overlap = Math.max(0, Math.min(toPpm, (b + 1) * 1000) - Math.max(fromPpm, b * 1000));
    n += (bins[b] * overlap) / 1000;
  }
  return Math.round(n);
}

export const ETA_MODEL =
  'each remaining ramp step takes the longer of its hold and its capable users at the ramp rate (achieved ramp throughput, else the pace, else the configured maximum); opt-ins are not a rate; approvals are assumed given when asked';

/** The ETA from the campaign's pace and its remaining steps (see campaignEta). */
function etaOf(input: ProgressInputs, nowMs: number): Progress['eta'] {
  const { campaign: c, counters } = input;
  const st = counters.states;
  const steps = rampStepsOf(c.rampPlan);
  const admitted = st.eligible + st.enrolling;
  const ranges = remainingRanges(steps, c.currentStep, c.plannedPpm);
  const usersByStep = ranges.length === 0 ? [admitted] : ranges.map((g, k) => capableIn(input.capableBins, g.fromPpm, g.toPpm) + (k === 0 ? admitted : 0));
  const rate = rampRate({ maxUsersPerSecond: maxUsersPerSecondOf(c.pacing), paceUsersPerSecond: c.paceUsersPerSecond, ramp: input.rampBusy });
  const holdLeft = rampView(c, nowMs).holdRemainingSeconds;
  const e = campaignEta({ status: c.status, rate, steps, currentStep: c.currentStep, holdRemainingMs: holdLeft === null ? null : holdLeft * 1000, usersByStep });
  return {
    remainingUsers: st.legacy + st.eligible + st.enrolling + st.failed,
    toProcess: usersByStep.reduce((a, b) => a + b, 0),
    seconds: e.seconds,
    at: e.seconds === null ? null : new Date(nowMs + e.seconds * 1000).toISOString(),
    reason: e.reason,
    rate,
    approvalsAhead: e.approvalsAhead,
    model: ETA_MODEL,
  };
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

/** Turns the constant-size inputs into the progress document. Pure: same inputs, same answer. */
export function computeProgress(input: ProgressInputs, now: Date): Progress {
  const { campaign: c, counters, backlog, recentBatches } = input;
  const st = counters.states;
  const total = totalOf(st);
  const nowMs = now.getTime();
  const current = { at: now, enabled: st.enabled };
  const perSecond1m = throughputOver(input.recentSamples, current, 60_000);
  const perSecond5m = throughputOver(input.recentSamples, current, 300_000);
  const eta = etaOf(input, nowMs);
  const enabledShare = ratio(st.enabled, Math.max(total, Number(c.populationSize)));
  const r = counters.recovery;
  const methodsSet = r.pin + r.recoveryCode + r.cloudBackup + r.deviceKeychain;
  return {
    campaign: {
      id: c.id.toString(),
      key: c.key,
      name: c.name,
      status: c.status,
      version: c.version,
      populationSize: Number(c.populationSize),
      startedAt: c.startedAt?.toISOString() ?? null,
      completedAt: c.completedAt?.toISOString() ?? null,
    },
    at: now.toISOString(),
    counts: { ...st, total },
    enabledShare,
    admission: {
      admittedPpm: c.admittedPpm,
      plannedPpm: c.plannedPpm,
      admittedUsers: input.admitted.users,
      admittedCapableUsers: input.admitted.capable,
    },
    throughput: { perSecond1m, perSecond5m },
    eta,
    conversations: conversationCoverage(enabledShare),
    failures: {
      ratio: ratio(st.failed, st.enabled + st.failed),
      recentRatio5m: recentBatches.claimed > 0 ? recentBatches.failed / recentBatches.claimed : null,
      recentBackendErrors5m: recentBatches.backendErrors,
    },
    backlog: {
      batches: backlog.queued + backlog.running,
      queued: backlog.queued,
      running: backlog.running,
      oldestQueuedAgeSeconds: backlog.oldestQueuedAt ? Math.max(0, (nowMs - backlog.oldestQueuedAt.getTime()) / 1000) : null,
    },
    recovery: {
      ...r,
      adoption: ratio(methodsSet, st.enabled),
      byMethod: { pin: r.pin, recovery_code: r.recoveryCode, cloud_backup: r.cloudBackup, device_keychain: r.deviceKeychain },
    },
    ramp: rampView(c, nowMs),
    guardrails: { rules: c.guardrails, state: c.guardrailState },
    pace: { usersPerSecond: c.paceUsersPerSecond, maxUsersPerSecond: maxUsersPerSecondOf(c.pacing) },
    halt: { haltedAt: c.haltedAt?.toISOString() ?? null, reason: c.haltReason, haltToLastCommitMs: c.haltToLastCommitMs },
  };
}

/**
 * Admitted users not yet processed: capable users below the admitted ceiling that are not yet
 * enabled, failed or held, or the users queued and in flight when opt-ins put more there. Not
 * capped by the planner's backlog, so it measures the demand the workers face (KEDA scales on it).
 */
export function demandUsers(p: Pick<Progress, 'counts' | 'admission'>): number {
  const c = p.counts;
  return Math.max(0, p.admission.admittedCapableUsers - c.enabled - c.failed - c.held, c.eligible + c.enrolling);
}
