/**
 * How fast a campaign moves and when it will be done: from its pace (the configured maximum,
 * the adaptive pace within it, and the throughput its ramp batches achieved), never from
 * opt-ins, which trickle in at the rate users ask and say nothing about the ramp. Pure.
 */
import type { CampaignStatus } from './campaigns.types';
import type { RampStep } from './ramp-plan';

/** Ramp (bucket-range) batches finished recently: users processed and the time some batch was running. */
export interface RampThroughput {
  processed: number;
  busySeconds: number;
}

export type RateSource = 'ramp_throughput' | 'pace' | 'max_pace';

export interface PaceRate {
  usersPerSecond: number;
  source: RateSource;
}

/** Below this much busy time, a measured rate is one batch's noise. */
const MIN_BUSY_SECONDS = 1;

/**
 * The rate the ramp moves at: the throughput its batches achieved while running (bounded by
 * the pace), else the adaptive pace, else the configured maximum; null when none is known.
 */
export function rampRate(i: { maxUsersPerSecond: number | null; paceUsersPerSecond: number; ramp: RampThroughput | null }): PaceRate | null {
  const max = i.maxUsersPerSecond && i.maxUsersPerSecond > 0 ? i.maxUsersPerSecond : null;
  const limit = i.paceUsersPerSecond > 0 ? i.paceUsersPerSecond : max;
  const busy = i.ramp && i.ramp.processed > 0 && i.ramp.busySeconds >= MIN_BUSY_SECONDS ? i.ramp : null;
  if (busy) {
    const measured = busy.processed / busy.busySeconds;
    return { usersPerSecond: limit === null ? measured : Math.min(measured, limit), source: 'ramp_throughput' };
  }
  if (i.paceUsersPerSecond > 0) return { usersPerSecond: i.paceUsersPerSecond, source: 'pace' };
  return max === null ? null : { usersPerSecond: max, source: 'max_pace' };
}

export type NoEtaReason = 'draft' | 'paused' | 'halted' | 'no_pace';

export interface EtaInput {
  status: CampaignStatus;
  rate: PaceRate | null;
  steps: readonly RampStep[];
  currentStep: number;
  holdRemainingMs: number | null;
  /**
   * Capable users still to process in each step from the current one on (index 0: the current
   * step, or the first step before the ramp starts), admitted users not yet done included.
   */
  usersByStep: readonly number[];
}

export interface Eta {
  seconds: number | null;
  /** why there is no ETA */
  reason: NoEtaReason | null;
  /** later steps that wait for an approval: the ETA assumes it is given when asked */
  approvalsAhead: number[];
}

/**
 * Seconds until the last step is done: each remaining step takes the longer of its hold and
 * the time its users take at the rate. A draft, paused or halted campaign has no ETA (nothing
 * moves); a completed one is done.
 */
export function campaignEta(i: EtaInput): Eta {
  const first = Math.max(0, i.currentStep);
  const approvalsAhead = i.steps.map((s, k) => (k > i.currentStep && s.requiresApproval ? k : -1)).filter((k) => k >= 0);
  if (i.status === 'completed') return { seconds: 0, reason: null, approvalsAhead: [] };
  if (i.status !== 'running') return { seconds: null, reason: i.status, approvalsAhead };
  const users = i.usersByStep.reduce((a, b) => a + b, 0);
  if (users > 0 && !i.rate) return { seconds: null, reason: 'no_pace', approvalsAhead };
  const work = (n: number) => (n > 0 ? n / i.rate!.usersPerSecond : 0);
  if (i.steps.length === 0) return { seconds: Math.ceil(work(users)), reason: null, approvalsAhead };
  let seconds = 0;
  for (let k = first; k < i.steps.length; k++) {
    const hold = k === i.currentStep ? (i.holdRemainingMs ?? 0) / 1000 : i.steps[k].holdMinutes * 60;
    seconds += Math.max(hold, work(i.usersByStep[k - first] ?? 0));
  }
  return { seconds: Math.ceil(seconds), reason: null, approvalsAhead };
}

/** Bucket ranges [from, to) of the steps from the current one on, above what the planner already admitted. */
export function remainingRanges(steps: readonly RampStep[], currentStep: number, plannedPpm: number): Array<{ fromPpm: number; toPpm: number }> {
  const out: Array<{ fromPpm: number; toPpm: number }> = [];
  for (let k = Math.max(0, currentStep); k < steps.length; k++) {
    const lo = Math.max(k > 0 ? steps[k - 1].ppm : 0, plannedPpm);
    out.push({ fromPpm: Math.min(lo, steps[k].ppm), toPpm: steps[k].ppm });
  }
  return out;
}
