import { InvalidTransitionError } from '../../core/errors/domain-error';
import type { CampaignAction, CampaignStatus } from './campaigns.types';

const NEXT: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ['running'],
  running: ['paused', 'halted', 'completed'],
  paused: ['running', 'halted', 'completed'],
  halted: ['running', 'completed'],
  completed: [],
};

/** The status each operator action leads to, and from where it may be taken. */
export const ACTION_TARGET: Record<CampaignAction, CampaignStatus> = {
  start: 'running',
  resume: 'running',
  pause: 'paused',
  halt: 'halted',
  complete: 'completed',
};

const ACTION_FROM: Record<CampaignAction, readonly CampaignStatus[]> = {
  start: ['draft'],
  resume: ['paused', 'halted'],
  pause: ['running'],
  halt: ['running', 'paused'],
  complete: ['running', 'paused', 'halted'],
};

export function canTransition(from: CampaignStatus, to: CampaignStatus): boolean {
  return NEXT[from].includes(to);
}

export function assertTransition(from: CampaignStatus, to: CampaignStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError('campaign', from, to);
}

/**
 * What an action does from a status: `noop` when it already took effect (repeating it is
 * safe), `apply` for a valid transition; anything else is a 409.
 */
export function planAction(action: CampaignAction, from: CampaignStatus): 'noop' | 'apply' {
  const to = ACTION_TARGET[action];
  if (from === to) return 'noop';
  if (!ACTION_FROM[action].includes(from)) throw new InvalidTransitionError('campaign', from, to);
  assertTransition(from, to);
  return 'apply';
}

/** Campaigns that still take users in (opt-ins, reassessment). */
export function acceptsUsers(status: CampaignStatus): boolean {
  return status === 'running' || status === 'paused';
}
