/**
 * The ramp plan and ramp progression: pure, no I/O, time passed in.
 *
 * A plan is an ordered list of steps `{ ppm, holdMinutes, requiresApproval, pointOfNoReturn }`
 * with strictly increasing ppm. `currentStep` is -1 before the ramp starts. The campaign row
 * is the truth for the step; the admission flag's rollout follows it.
 */
import type { CampaignStatus } from './campaigns.types';

export interface RampStep {
  ppm: number;
  /** may be fractional (demos hold steps for seconds) */
  holdMinutes: number;
  requiresApproval: boolean;
  pointOfNoReturn: boolean;
  /** capability floor: the step starts only when at least this share (0..100) of its users is E2EE-capable */
  minCapablePercent?: number;
}

export const FULL_PPM = 1_000_000;

export type GuardrailVerdict = 'ok' | 'hold' | 'throttle' | 'pause' | 'halt';

/** What the ramp controller knows about a campaign at one tick. */
export interface RampState {
  status: CampaignStatus;
  steps: readonly RampStep[];
  currentStep: number;
  stepEnteredAt: Date | null;
  approvedStep: number;
  plannedPpm: number;
}

/** Measured figures that gate an advance. */
export interface RampFigures {
  /** queued + running batches */
  backlogBatches: number;
  /** an advance waits while the backlog is above this */
  maxBacklogBatches: number;
  guardrail: GuardrailVerdict;
  flagKilled: boolean;
  /** the campaign's rows exist (holds placed before are applied before the first step) */
  materialized: boolean;
  /** the next step's users (buckets below its ppm) and how many of them are E2EE-capable; null when it has no floor */
  capability?: CapabilityFigures | null;
}

export interface CapabilityFigures {
  users: number;
  capable: number;
}

export type WaitReason =
  | 'not_running'
  | 'no_plan'
  | 'materialising'
  | 'flag_killed'
  | 'guardrail'
  | 'final_step'
  | 'hold'
  | 'planning'
  | 'backlog'
  | 'capability_floor'
  | 'approval';

export type RampDecision =
  | { kind: 'advance'; from: number; to: number; why: string }
  | { kind: 'wait'; reason: WaitReason; detail: string; remainingMs?: number };

function wait(reason: WaitReason, detail: string, remainingMs?: number): RampDecision {
  return remainingMs === undefined ? { kind: 'wait', reason, detail } : { kind: 'wait', reason, detail, remainingMs };
}

export function holdMs(step: RampStep): number {
  return Math.round(step.holdMinutes * 60_000);
}

/** Milliseconds of the current step's hold still to go (0 when over, null before the ramp). */
export function holdRemainingMs(s: Pick<RampState, 'steps' | 'currentStep' | 'stepEnteredAt'>, now: Date): number | null {
  const step = s.steps[s.currentStep];
  if (!step || !s.stepEnteredAt) return null;
  return Math.max(0, holdMs(step) - (now.getTime() - s.stepEnteredAt.getTime()));
}

export function needsApproval(s: Pick<RampState, 'steps' | 'approvedStep'>, index: number): boolean {
  const step = s.steps[index];
  return Boolean(step?.requiresApproval) && s.approvedStep < index;
}

/**
 * One tick of the ramp controller. Entering step 0 is an advance from -1. A step advances
 * when its hold is over, the planner has turned its whole range into batches, the backlog is
 * at most the threshold, guardrails are healthy and, if the next step requires approval, an
 * operator approved it.
 */
export function decideRampTick(s: RampState, f: RampFigures, now: Date): RampDecision {
  if (s.status !== 'running') return wait('not_running', `campaign is ${s.status}`);
  if (s.steps.length === 0) return wait('no_plan', 'the campaign has no ramp plan');
  if (!f.materialized) return wait('materialising', 'the campaign is still materialising its population');
  if (f.flagKilled) return wait('flag_killed', 'the admission flag is killed; nobody new is admitted');
  if (f.guardrail !== 'ok') return wait('guardrail', `guardrails say ${f.guardrail}`);
  const next = s.currentStep + 1;
  if (next >= s.steps.length) return wait('final_step', `step ${s.currentStep + 1} of ${s.steps.length} is the last step`);
  if (s.currentStep >= 0) {
    const remaining = holdRemainingMs(s, now) ?? 0;
    if (remaining > 0) return wait('hold', `step ${s.currentStep + 1} of ${s.steps.length} holds for ${Math.ceil(remaining / 1000)} s more`, remaining);
    const ppm = s.steps[s.currentStep].ppm;
    if (s.plannedPpm < ppm) return wait('planning', `the planner reached ${s.plannedPpm} of ${ppm} ppm`);
    if (f.backlogBatches > f.maxBacklogBatches) return wait('backlog', `${f.backlogBatches} batches in the backlog (at most ${f.maxBacklogBatches} to advance)`);
  }
  const floor = floorShortfall(s.steps[next], f.capability ?? null);
  if (floor) return wait('capability_floor', `step ${next + 1} of ${s.steps.length} needs ${floor}`);
  if (needsApproval(s, next)) return wait('approval', `step ${next + 1} of ${s.steps.length} requires approval`);
  const why = s.currentStep < 0 ? 'ramp started' : `hold of step ${s.currentStep + 1} of ${s.steps.length} over, backlog ${f.backlogBatches}, guardrails ok`;
  return { kind: 'advance', from: s.currentStep, to: next, why };
}

/** Share (0..100) of a step's users that are E2EE-capable; null when the step has no users yet. */
export function capablePercent(c: CapabilityFigures): number | null {
  return c.users > 0 ? (100 * c.capable) / c.users : null;
}

/** What a step's capability floor still lacks, in words; null when it has no floor or the floor is met. */
export function floorShortfall(step: RampStep, c: CapabilityFigures | null): string | null {
  const floor = step.minCapablePercent;
  if (floor === undefined || floor <= 0) return null;
  if (!c) return `${floor}% of its users E2EE-capable (not measured yet)`;
  const share = capablePercent(c);
  if (share !== null && share >= floor) return null;
  const shown = share === null ? 'it has no users yet' : `${share.toFixed(1)}% are (${c.capable} of ${c.users})`;
  return `${floor}% of its users E2EE-capable; ${shown}`;
}

export interface CompletionFigures {
  autoComplete: boolean;
  backlogBatches: number;
  /** users per state that still have work ahead of them (held: an operator's hold still to release) */
  legacy: number;
  eligible: number;
  enrolling: number;
  held: number;
}

export type CompletionDecision = { complete: true; why: string } | { complete: false; detail: string };

/**
 * A running campaign completes by itself when its last step admits everyone (100%), that
 * step's hold is over, the planner covered the whole range, no batch is queued or running and
 * nobody is legacy, eligible, enrolling (opt-ins included) or held (a hold is "not yet", not
 * "never": release it or complete by hand). Ineligible and failed users stay as they are.
 */
export function decideCompletion(s: RampState, f: CompletionFigures, now: Date): CompletionDecision {
  const last = s.steps.length - 1;
  const no = (detail: string): CompletionDecision => ({ complete: false, detail });
  if (s.status !== 'running') return no(`campaign is ${s.status}`);
  if (!f.autoComplete) return no('automatic completion is off for this campaign (complete it from the CLI or the dashboard)');
  if (last < 0 || s.currentStep !== last) return no('the last step is not entered yet');
  if (s.steps[last].ppm < FULL_PPM) return no(`the last step admits ${s.steps[last].ppm} ppm, not everyone`);
  const remaining = holdRemainingMs(s, now) ?? 0;
  if (remaining > 0) return no(`the last step holds for ${Math.ceil(remaining / 1000)} s more`);
  if (s.plannedPpm < FULL_PPM) return no(`the planner reached ${s.plannedPpm} of ${FULL_PPM} ppm`);
  if (f.held > 0) return no(`${f.held} users are held; release the hold or complete the campaign by hand`);
  const left = f.legacy + f.eligible + f.enrolling;
  if (f.backlogBatches > 0 || left > 0) return no(`${left} users still to process, ${f.backlogBatches} batches in the backlog`);
  return { complete: true, why: 'the last step (100%) is done: nothing left to process and nobody enrolling' };
}

/** Steps with a point of no return that lowering from `from` to `to` would go below. */
export function passedPointsOfNoReturn(steps: readonly RampStep[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = Math.max(0, to + 1); i <= from && i < steps.length; i++) if (steps[i].pointOfNoReturn) out.push(i);
  return out;
}

/** Steps between the current one and the target (exclusive/inclusive) that still need an approval. */
export function approvalsMissing(s: Pick<RampState, 'steps' | 'approvedStep' | 'currentStep'>, to: number): number[] {
  const out: number[] = [];
  for (let i = s.currentStep + 1; i <= to; i++) if (needsApproval(s, i)) out.push(i);
  return out;
}

/** The ceiling (ppm) a step index admits: 0 before the ramp. */
export function stepPpm(steps: readonly RampStep[], index: number): number {
  return index >= 0 && index < steps.length ? steps[index].ppm : 0;
}

/**
 * A new plan may replace the old one only if the steps already entered keep their ppm (the
 * users they admitted are a fact); returns the first index that changed, or null.
 */
export function firstChangedPassedStep(old: readonly RampStep[], next: readonly RampStep[], currentStep: number): number | null {
  for (let i = 0; i <= currentStep && i < old.length; i++) {
    if (!next[i] || next[i].ppm !== old[i].ppm) return i;
  }
  return null;
}

/** Lenient read of the JSON column (validated on the way in by rampPlanSchema). */
export function stepsOf(json: unknown): RampStep[] {
  if (!Array.isArray(json)) return [];
  return json.map((raw) => {
    const s = (raw ?? {}) as Record<string, unknown>;
    return {
      ppm: Number(s.ppm ?? 0),
      holdMinutes: Number(s.holdMinutes ?? 0),
      requiresApproval: s.requiresApproval === true,
      pointOfNoReturn: s.pointOfNoReturn === true,
      ...(typeof s.minCapablePercent === 'number' && { minCapablePercent: s.minCapablePercent }),
    };
  });
}
