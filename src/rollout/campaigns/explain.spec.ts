import { enrolledBy, explain, type ExplainFacts } from './explain';
import type { RampStep } from './ramp-plan';

const step = (ppm: number): RampStep => ({ ppm, holdMinutes: 60, requiresApproval: false, pointOfNoReturn: false });
const base: ExplainFacts = {
  state: 'legacy',
  bucket: 42_000,
  attempts: 0,
  lastError: null,
  enrolledVia: null,
  enrolledStep: null,
  enabledAt: null,
  hold: null,
  campaignStatus: 'running',
  steps: [step(10_000), step(50_000), step(1_000_000)],
  currentStep: 0,
  ceilingPpm: 10_000,
  flagKilled: false,
  plannedPpm: 10_000,
};

describe('explain', () => {
  it('legacy above the ceiling: names the ceiling and the step that will admit the user', () => {
    expect(explain(base)).toEqual({
      admittedByCurrentStep: false,
      firstStepAdmitting: 1,
      enrolledBy: null,
      code: 'above_ceiling',
      why: 'bucket 42000 is not below the ceiling of step 1 of 3, 10000 ppm; step 2 (50000 ppm) will admit it',
    });
  });

  it('legacy before the ramp started', () => {
    expect(explain({ ...base, currentStep: -1, ceilingPpm: 0 }).why).toContain('the ramp (not started)');
  });

  it('legacy inside the ceiling: not planned yet, or the campaign is not running', () => {
    const inside = { ...base, ceilingPpm: 50_000 };
    expect(explain(inside)).toMatchObject({ code: 'not_planned_yet', admittedByCurrentStep: true });
    expect(explain({ ...inside, campaignStatus: 'paused' })).toMatchObject({ code: 'campaign_not_running', why: expect.stringContaining('paused') });
  });

  it('legacy inside the ceiling and planned: its range batch admits it when it runs', () => {
    const planned = { ...base, ceilingPpm: 50_000, plannedPpm: base.bucket + 1 };
    expect(explain(planned)).toMatchObject({ code: 'waiting_for_batch', admittedByCurrentStep: true, why: 'inside the ceiling (50000 ppm) and planned: its batch admits it when it runs' });
    expect(explain({ ...planned, plannedPpm: base.bucket })).toMatchObject({ code: 'not_planned_yet' });
  });

  it('a killed flag admits nobody', () => {
    expect(explain({ ...base, flagKilled: true, ceilingPpm: 0 })).toMatchObject({ code: 'flag_killed', admittedByCurrentStep: false });
  });

  it.each([
    ['enabled', { enabledAt: new Date(Date.UTC(2026, 0, 2)), enrolledVia: 'ramp', enrolledStep: 1 }, 'enabled', 'encrypted since 2026-01-02T00:00:00.000Z, enrolled via step 2; enabled is final'],
    ['held', { hold: { id: 7n, reason: 'regulator' } }, 'held', 'held by hold 7: regulator'],
    ['enrolling', { attempts: 2 }, 'in_flight', 'a backend call for this user is in flight (attempt 2)'],
    ['failed', { attempts: 5, lastError: 'mailbox locked' }, 'failed', 'failed after 5 attempts: mailbox locked; POST .../retry-failed gives another chance'],
    ['ineligible', { enrolledVia: 'opt_in', lastError: 'device cannot do E2EE yet' }, 'ineligible', 'admitted via opt-in but cannot move yet: device cannot do E2EE yet'],
    ['eligible', { enrolledVia: 'ramp', enrolledStep: 0 }, 'waiting_for_batch', 'admitted via step 1; waiting for its batch'],
  ] as const)('%s', (state, extra, code, why) => {
    expect(explain({ ...base, ...extra, state })).toMatchObject({ code, why });
  });

  it('eligible while the campaign is halted', () => {
    expect(explain({ ...base, state: 'eligible', enrolledVia: 'ramp', campaignStatus: 'halted' })).toMatchObject({ code: 'campaign_not_running' });
  });

  it('not materialised yet', () => {
    expect(explain({ ...base, state: null })).toMatchObject({ code: 'not_materialised' });
  });

  it('no step admits a bucket above the last step', () => {
    expect(explain({ ...base, steps: [step(10_000)] }).firstStepAdmitting).toBeNull();
  });

  it('enrolledBy', () => {
    expect(enrolledBy({ enrolledVia: 'opt_in', enrolledStep: null })).toBe('opt-in');
    expect(enrolledBy({ enrolledVia: 'ramp', enrolledStep: 3 })).toBe('step 4');
    expect(enrolledBy({ enrolledVia: 'ramp', enrolledStep: null })).toBe('ramp');
    expect(enrolledBy({ enrolledVia: null, enrolledStep: null })).toBeNull();
  });
});
