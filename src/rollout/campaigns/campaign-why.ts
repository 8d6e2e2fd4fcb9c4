/** The sentence `campaign explain` answers with: why a campaign is (not) moving. Pure. */
import type { CampaignStatus } from './campaigns.types';
import type { FloorStatus } from './floors';
import type { RampStep } from './ramp-plan';

export const COMPLETION_RULE =
  'completes by itself when its last step admits everyone (100%), that step’s hold is over, the planner covered it, no batch is queued or running and nobody is legacy, eligible, enrolling or held; ineligible and failed users stay as they are';

/** 90 s → "1 min 30 s", 7,200 s → "2 h". */
export function roughDuration(seconds: number): string {
  const parts: Array<[number, string]> = [[86_400, 'd'], [3600, 'h'], [60, 'min'], [1, 's']];
  const out: string[] = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [n, unit] of parts) {
    if (rest >= n && out.length < 2) {
      out.push(`${Math.floor(rest / n)} ${unit}`);
      rest %= n;
    } else if (out.length > 0) break;
  }
  return out.length > 0 ? out.join(' ') : '0 s';
}

function floorSentence(f: FloorStatus, steps: number): string {
  const share = f.capablePercent === null ? 'it has no users yet' : `${f.capablePercent.toFixed(1)}% are (${f.capable} of ${f.users})`;
  const when = f.forecast.etaSeconds !== null
    ? `at the rate users have been becoming capable, it is met in about ${roughDuration(f.forecast.etaSeconds)} (${f.forecast.etaAt})`
    : 'users are not becoming capable at a measurable rate, so there is no forecast of when it is met';
  return `Step ${f.step + 1} of ${steps} is held by its capability floor: it needs ${f.minCapablePercent}% of its users E2EE-capable; ${share}; ${f.usersNeeded} more capable users needed; ${when}.`;
}

export function campaignWhy(
  c: { status: CampaignStatus; steps: readonly RampStep[]; autoComplete: boolean },
  wait: { reason: string; detail: string } | null,
  floor: FloorStatus | null,
): string {
  if (c.status === 'completed') return 'The campaign is completed: enabled users stay enabled (the flag keeps them on, the ratchet never un-encrypts anyone); nobody new is admitted.';
  if (c.status !== 'running') return `The campaign is ${c.status}: nothing moves.`;
  if (floor) return floorSentence(floor, c.steps.length);
  if (!wait) return c.steps.length === 0 ? 'The campaign has no ramp plan: only opt-ins move.' : 'The ramp is advancing.';
  const done = wait.reason === 'final_step' ? (c.autoComplete ? ' The campaign completes by itself once nothing is left to process.' : ' Automatic completion is off: an admin completes it.') : '';
  return `The ramp waits: ${wait.detail}.${done}`;
}
