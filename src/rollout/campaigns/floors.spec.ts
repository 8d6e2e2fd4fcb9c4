import { campaignWhy, roughDuration } from './campaign-why';
import { floorStatus, trendOf } from './floors';
import { decideCompletion, decideRampTick, floorShortfall, type RampState, type RampStep } from './ramp-plan';
import { rampStepsSchema } from './ramp.schemas';

const T0 = new Date(Date.UTC(2026, 0, 1));
const HOUR = 3_600_000;
const step = (ppm: number, extra: Partial<RampStep> = {}): RampStep => ({ ppm, holdMinutes: 0, requiresApproval: false, pointOfNoReturn: false, ...extra });
const PLAN = [step(100_000), step(1_000_000, { minCapablePercent: 90 })];
const healthy = { backlogBatches: 0, maxBacklogBatches: 0, guardrail: 'ok' as const, flagKilled: false, materialized: true };
const state = (over: Partial<RampState> = {}): RampState => ({ status: 'running', steps: PLAN, currentStep: 0, stepEnteredAt: T0, approvedStep: -1, plannedPpm: 100_000, ...over });

describe('capability floors in the ramp decision', () => {
  it('holds the step below its floor with the figures, and advances once it is met', () => {
    expect(decideRampTick(state(), { ...healthy, capability: { users: 4000, capable: 3000 } }, T0)).toEqual({
      kind: 'wait',
      reason: 'capability_floor',
      detail: 'step 2 of 2 needs 90% of its users E2EE-capable; 75.0% are (3000 of 4000)',
    });
    expect(decideRampTick(state(), { ...healthy, capability: { users: 4000, capable: 3600 } }, T0)).toMatchObject({ kind: 'advance', to: 1 });
  });

  it('holds a step whose users were not measured, and ignores steps without a floor', () => {
    expect(floorShortfall(PLAN[1], null)).toBe('90% of its users E2EE-capable (not measured yet)');
    expect(floorShortfall(PLAN[0], null)).toBeNull();
    expect(floorShortfall(PLAN[1], { users: 0, capable: 0 })).toBe('90% of its users E2EE-capable; it has no users yet');
  });

  it('checks the floor after the hold and before the approval', () => {
    const gated = [PLAN[0], step(1_000_000, { minCapablePercent: 90, requiresApproval: true })];
    expect(decideRampTick(state({ steps: [step(100_000, { holdMinutes: 60 }), gated[1]] }), { ...healthy, capability: { users: 10, capable: 1 } }, T0)).toMatchObject({ reason: 'hold' });
    expect(decideRampTick(state({ steps: gated }), { ...healthy, capability: { users: 10, capable: 1 } }, T0)).toMatchObject({ reason: 'capability_floor' });
    expect(decideRampTick(state({ steps: gated }), { ...healthy, capability: { users: 10, capable: 9 } }, T0)).toMatchObject({ reason: 'approval' });
  });

  it('is validated as a share in (0, 100] and kept only when given', () => {
    expect(rampStepsSchema.parse([{ percent: 100, minCapablePercent: 95 }])[0]).toEqual({ ppm: 1_000_000, holdMinutes: 0, requiresApproval: false, pointOfNoReturn: false, minCapablePercent: 95 });
    expect(rampStepsSchema.parse([{ percent: 100 }])[0]).not.toHaveProperty('minCapablePercent');
    for (const bad of [0, -1, 100.5, '90']) expect(rampStepsSchema.safeParse([{ percent: 100, minCapablePercent: bad }]).success).toBe(false);
  });
});

describe('floor forecast', () => {
  it('spreads the population rate over the step by its share of users and says when the floor is met', () => {
    const trend = trendOf({ at: new Date(T0.getTime() + HOUR), capable: 7_360, users: 10_000 }, { at: T0, capable: 7_000 });
    expect(trend).toEqual({ perSecond: 0.1, populationUsers: 10_000, windowSeconds: 3600 });
    const f = floorStatus(1, PLAN[1], { users: 5000, capable: 3700 }, trend, T0)!;
    // 4,500 needed, 800 missing; the step's share of 0.1/s is 0.05/s → 16,000 s
    expect(f).toMatchObject({ step: 1, minCapablePercent: 90, capablePercent: 74, met: false, usersNeeded: 800, forecast: { capablePerSecond: 0.05, etaSeconds: 16_000 } });
    expect(f.forecast.etaAt).toBe(new Date(T0.getTime() + 16_000_000).toISOString());
  });

  it('has no forecast without two readings a minute apart or while capability is not rising', () => {
    const c = { users: 100, capable: 50 };
    expect(floorStatus(1, PLAN[1], c, trendOf({ at: T0, capable: 50, users: 100 }, null), T0)!.forecast.etaSeconds).toBeNull();
    expect(trendOf({ at: new Date(T0.getTime() + 30_000), capable: 60, users: 100 }, { at: T0, capable: 50 }).perSecond).toBeNull();
    const falling = trendOf({ at: new Date(T0.getTime() + HOUR), capable: 40, users: 100 }, { at: T0, capable: 50 });
    expect(floorStatus(1, PLAN[1], c, falling, T0)!.forecast.etaSeconds).toBeNull();
    expect(floorStatus(0, PLAN[0], c, falling, T0)).toBeNull();
    expect(floorStatus(1, PLAN[1], { users: 100, capable: 95 }, falling, T0)).toMatchObject({ met: true, usersNeeded: 0, forecast: { etaSeconds: 0 } });
  });

  it('names the floor that holds the step in the campaign explanation', () => {
    const trend = trendOf({ at: new Date(T0.getTime() + HOUR), capable: 7_360, users: 10_000 }, { at: T0, capable: 7_000 });
    const f = floorStatus(1, PLAN[1], { users: 5000, capable: 3700 }, trend, T0)!;
    expect(campaignWhy({ status: 'running', steps: PLAN, autoComplete: true }, { reason: 'capability_floor', detail: 'x' }, f)).toBe(
      `Step 2 of 2 is held by its capability floor: it needs 90% of its users E2EE-capable; 74.0% are (3700 of 5000); 800 more capable users needed; at the rate users have been becoming capable, it is met in about 4 h 26 min (${f.forecast.etaAt}).`,
    );
    expect(campaignWhy({ status: 'halted', steps: PLAN, autoComplete: true }, null, null)).toBe('The campaign is halted: nothing moves.');
    expect(campaignWhy({ status: 'running', steps: PLAN, autoComplete: true }, { reason: 'final_step', detail: 'step 2 of 2 is the last step' }, null)).toBe(
      'The ramp waits: step 2 of 2 is the last step. The campaign completes by itself once nothing is left to process.',
    );
    expect(roughDuration(90)).toBe('1 min 30 s');
    expect(roughDuration(7200)).toBe('2 h');
  });
});

describe('decideCompletion', () => {
  const last = state({ currentStep: 1, plannedPpm: 1_000_000 });
  const done = { autoComplete: true, backlogBatches: 0, legacy: 0, eligible: 0, enrolling: 0, held: 0 };

  it('completes when the last step (100%) is done and nothing is left', () => {
    expect(decideCompletion(last, done, T0)).toEqual({ complete: true, why: 'the last step (100%) is done: nothing left to process and nobody enrolling' });
  });

  it.each([
    ['automatic completion is off', state({ currentStep: 1, plannedPpm: 1_000_000 }), { ...done, autoComplete: false }],
    ['a user is enrolling (an opt-in)', last, { ...done, enrolling: 1 }],
    ['a user is eligible', last, { ...done, eligible: 1 }],
    ['a user is legacy', last, { ...done, legacy: 1 }],
    ['a user is held (a hold to release)', last, { ...done, held: 1 }],
    ['a batch is queued', last, { ...done, backlogBatches: 1 }],
    ['the planner is behind', state({ currentStep: 1, plannedPpm: 999_000 }), done],
    ['the last step is not entered', state({ currentStep: 0, plannedPpm: 1_000_000 }), done],
    ['the last step is below 100%', state({ steps: [step(100_000), step(900_000)], currentStep: 1, plannedPpm: 1_000_000 }), done],
    ['the last step still holds', state({ steps: [step(100_000), step(1_000_000, { holdMinutes: 5 })], currentStep: 1, plannedPpm: 1_000_000 }), done],
    ['the campaign is paused', state({ status: 'paused', currentStep: 1, plannedPpm: 1_000_000 }), done],
  ] as const)('does not complete when %s', (_why, s, f) => {
    expect(decideCompletion(s, f, T0).complete).toBe(false);
  });
});
