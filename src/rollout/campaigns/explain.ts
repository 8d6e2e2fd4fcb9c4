/**
 * "Why is this user (not) encrypted?" — pure: the facts about one user and the campaign in,
 * a reason code and a sentence out.
 */
import type { CampaignStatus } from './campaigns.types';
import type { RampStep } from './ramp-plan';

export interface ExplainFacts {
  state: string | null;
  bucket: number;
  attempts: number;
  lastError: string | null;
  enrolledVia: string | null;
  enrolledStep: number | null;
  enabledAt: Date | null;
  hold: { id: bigint; reason: string } | null;
  campaignStatus: CampaignStatus;
  steps: readonly RampStep[];
  currentStep: number;
  /** the admission flag's rollout: the bucket ceiling admitted now */
  ceilingPpm: number;
  flagKilled: boolean;
  plannedPpm: number;
}

export type ExplainCode =
  | 'enabled'
  | 'held'
  | 'in_flight'
  | 'failed'
  | 'ineligible'
  | 'waiting_for_batch'
  | 'campaign_not_running'
  | 'flag_killed'
  | 'above_ceiling'
  | 'not_planned_yet'
  | 'not_materialised';

export interface Explanation {
  /** whether the current step (the flag's rollout) admits this user's bucket */
  admittedByCurrentStep: boolean;
  /** the first ramp step whose ceiling is above the bucket (null: none, or no plan) */
  firstStepAdmitting: number | null;
  enrolledBy: string | null;
  code: ExplainCode;
  why: string;
}

export function enrolledBy(f: Pick<ExplainFacts, 'enrolledVia' | 'enrolledStep'>): string | null {
  if (f.enrolledVia === 'opt_in') return 'opt-in';
  if (f.enrolledVia === 'ramp') return f.enrolledStep !== null ? `step ${f.enrolledStep + 1}` : 'ramp';
  return null;
}

function why(f: ExplainFacts, first: number | null): { code: ExplainCode; why: string } {
  const by = enrolledBy(f);
  switch (f.state) {
    case 'enabled':
      return { code: 'enabled', why: `encrypted since ${f.enabledAt?.toISOString() ?? '?'}, enrolled via ${by ?? 'unknown'}; enabled is final` };
    case 'held':
      return { code: 'held', why: f.hold ? `held by hold ${f.hold.id}: ${f.hold.reason}` : 'held by an operator hold' };
    case 'enrolling':
      return { code: 'in_flight', why: `a backend call for this user is in flight (attempt ${f.attempts})` };
    case 'failed':
      return { code: 'failed', why: `failed after ${f.attempts} attempts: ${f.lastError ?? 'no error recorded'}; POST .../retry-failed gives another chance` };
    case 'ineligible':
      return { code: 'ineligible', why: `admitted via ${by ?? 'the ramp'} but cannot move yet: ${f.lastError ?? 'a device cannot do E2EE'}` };
    case 'eligible':
      return f.campaignStatus === 'running'
        ? { code: 'waiting_for_batch', why: `admitted via ${by ?? 'the ramp'}; waiting for its batch` }
        : { code: 'campaign_not_running', why: `admitted via ${by ?? 'the ramp'}, but the campaign is ${f.campaignStatus}` };
    case null:
      return { code: 'not_materialised', why: 'the campaign has not materialised this user yet (it is in the population)' };
    default:
      return legacyWhy(f, first);
  }
}

function legacyWhy(f: ExplainFacts, first: number | null): { code: ExplainCode; why: string } {
  if (f.flagKilled) return { code: 'flag_killed', why: 'the admission flag is killed: nobody new is admitted' };
  if (f.bucket >= f.ceilingPpm) {
    const step = f.currentStep >= 0 ? `step ${f.currentStep + 1} of ${f.steps.length}` : 'the ramp (not started)';
    const next = first !== null ? `; step ${first + 1} (${f.steps[first].ppm} ppm) will admit it` : '';
    return { code: 'above_ceiling', why: `bucket ${f.bucket} is not below the ceiling of ${step}, ${f.ceilingPpm} ppm${next}` };
  }
  if (f.campaignStatus !== 'running') return { code: 'campaign_not_running', why: `inside the ceiling, but the campaign is ${f.campaignStatus}` };
  // a range batch admits its users when it claims them (docs/migration.md)
  if (f.bucket < f.plannedPpm) return { code: 'waiting_for_batch', why: `inside the ceiling (${f.ceilingPpm} ppm) and planned: its batch admits it when it runs` };
  return { code: 'not_planned_yet', why: `inside the ceiling (${f.ceilingPpm} ppm); the planner has reached ${f.plannedPpm} ppm and admits it soon` };
}

export function explain(f: ExplainFacts): Explanation {
  const firstIdx = f.steps.findIndex((s) => s.ppm > f.bucket);
  const first = firstIdx >= 0 ? firstIdx : null;
  return {
    admittedByCurrentStep: !f.flagKilled && f.bucket < f.ceilingPpm,
    firstStepAdmitting: first,
    enrolledBy: enrolledBy(f),
    ...why(f, first),
  };
}
