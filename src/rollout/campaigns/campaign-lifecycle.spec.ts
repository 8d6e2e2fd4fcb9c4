import { acceptsUsers, canTransition, planAction } from './campaign-lifecycle';
import { CAMPAIGN_STATUSES, type CampaignAction, type CampaignStatus } from './campaigns.types';

const ALLOWED: Array<[CampaignStatus, CampaignStatus]> = [
  ['draft', 'running'],
  ['running', 'paused'],
  ['running', 'halted'],
  ['running', 'completed'],
  ['paused', 'running'],
  ['paused', 'halted'],
  ['paused', 'completed'],
  ['halted', 'running'],
  ['halted', 'completed'],
];

describe('campaign lifecycle', () => {
  it.each(CAMPAIGN_STATUSES.flatMap((from) => CAMPAIGN_STATUSES.map((to) => [from, to] as const)))(
    '%s -> %s follows the transition table',
    (from, to) => {
      expect(canTransition(from, to)).toBe(ALLOWED.some(([f, t]) => f === from && t === to));
    },
  );

  const expected: Record<CampaignAction, Record<CampaignStatus, 'noop' | 'apply' | 'conflict'>> = {
    start: { draft: 'apply', running: 'noop', paused: 'conflict', halted: 'conflict', completed: 'conflict' },
    resume: { draft: 'conflict', running: 'noop', paused: 'apply', halted: 'apply', completed: 'conflict' },
    pause: { draft: 'conflict', running: 'apply', paused: 'noop', halted: 'conflict', completed: 'conflict' },
    halt: { draft: 'conflict', running: 'apply', paused: 'apply', halted: 'noop', completed: 'conflict' },
    complete: { draft: 'conflict', running: 'apply', paused: 'apply', halted: 'apply', completed: 'noop' },
  };
  for (const [action, byStatus] of Object.entries(expected) as Array<[CampaignAction, Record<CampaignStatus, string>]>) {
    for (const [from, outcome] of Object.entries(byStatus) as Array<[CampaignStatus, string]>) {
      it(`${action} from ${from} is ${outcome}`, () => {
        if (outcome === 'conflict') {
          expect(() => planAction(action, from)).toThrow(expect.objectContaining({ code: 'campaign.invalid_transition', status: 409 }));
        } else {
          expect(planAction(action, from)).toBe(outcome);
        }
      });
    }
  }

  it('takes users in only while running or paused', () => {
    expect(CAMPAIGN_STATUSES.filter(acceptsUsers)).toEqual(['running', 'paused']);
  });
});
