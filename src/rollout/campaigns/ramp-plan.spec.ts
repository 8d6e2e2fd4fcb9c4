import { FakeClock } from '../../core/clock/clock';
import {
  approvalsMissing,
  decideRampTick,
  firstChangedPassedStep,
  holdRemainingMs,
  passedPointsOfNoReturn,
  stepPpm,
  stepsOf,
  type RampFigures,
  type RampState,
  type RampStep,
} from './ramp-plan';
import { rampStepsSchema } from './ramp.schemas';
import { CAMPAIGN_STATUSES } from './campaigns.types';

const T0 = Date.UTC(2026, 0, 1);
const step = (ppm: number, holdMinutes = 60, extra: Partial<RampStep> = {}): RampStep => ({ ppm, holdMinutes, requiresApproval: false, pointOfNoReturn: false, ...extra });
const PLAN: RampStep[] = [step(100), step(10_000), step(50_000, 60, { requiresApproval: true }), step(250_000, 60, { pointOfNoReturn: true }), step(1_000_000, 0)];

function state(over: Partial<RampState> = {}): RampState {
  return { status: 'running', steps: PLAN, currentStep: 0, stepEnteredAt: new Date(T0), approvedStep: -1, plannedPpm: 100, ...over };
}
const healthy: RampFigures = { backlogBatches: 0, maxBacklogBatches: 0, guardrail: 'ok', flagKilled: false, materialized: true };

describe('decideRampTick', () => {
  let clock: FakeClock;
  beforeEach(() => (clock = new FakeClock(T0)));

  it.each(CAMPAIGN_STATUSES.filter((s) => s !== 'running'))('waits while the campaign is %s', (status) => {
    expect(decideRampTick(state({ status }), healthy, clock.now())).toMatchObject({ kind: 'wait', reason: 'not_running' });
  });

  it('waits without a plan', () => {
    expect(decideRampTick(state({ steps: [], currentStep: -1 }), healthy, clock.now())).toMatchObject({ kind: 'wait', reason: 'no_plan' });
  });

  it('waits until the population is materialised (holds placed before apply first)', () => {
    expect(decideRampTick(state({ currentStep: -1, stepEnteredAt: null }), { ...healthy, materialized: false }, clock.now())).toMatchObject({ kind: 'wait', reason: 'materialising' });
  });

  it('enters step 0 at once when the ramp starts', () => {
    expect(decideRampTick(state({ currentStep: -1, stepEnteredAt: null, plannedPpm: 0 }), healthy, clock.now())).toEqual({ kind: 'advance', from: -1, to: 0, why: 'ramp started' });
  });

  it('does not enter a first step that requires approval before it is approved', () => {
    const s = state({ steps: [step(100, 1, { requiresApproval: true })], currentStep: -1, stepEnteredAt: null });
    expect(decideRampTick(s, healthy, clock.now())).toMatchObject({ kind: 'wait', reason: 'approval' });
    expect(decideRampTick({ ...s, approvedStep: 0 }, healthy, clock.now())).toMatchObject({ kind: 'advance', to: 0 });
  });

  it('holds a step for exactly holdMinutes on the injected clock', () => {
    clock.advance(60 * 60_000 - 1);
    expect(decideRampTick(state(), healthy, clock.now())).toEqual({ kind: 'wait', reason: 'hold', detail: 'step 1 of 5 holds for 1 s more', remainingMs: 1 });
    clock.advance(1);
    expect(decideRampTick(state(), healthy, clock.now())).toMatchObject({ kind: 'advance', from: 0, to: 1 });
  });

  it('supports fractional minutes (demo holds of seconds)', () => {
    const s = state({ steps: [step(100, 0.25), step(200, 0)] });
    clock.advance(14_999);
    expect(decideRampTick(s, healthy, clock.now())).toMatchObject({ kind: 'wait', reason: 'hold' });
    clock.advance(1);
    expect(decideRampTick(s, healthy, clock.now())).toMatchObject({ kind: 'advance', to: 1 });
  });

  it('waits until the planner has planned the whole step', () => {
    clock.advance(3_600_000);
    expect(decideRampTick(state({ plannedPpm: 99 }), healthy, clock.now())).toMatchObject({ kind: 'wait', reason: 'planning' });
  });

  it('waits while the backlog is above the threshold', () => {
    clock.advance(3_600_000);
    expect(decideRampTick(state(), { ...healthy, backlogBatches: 3, maxBacklogBatches: 2 }, clock.now())).toMatchObject({ kind: 'wait', reason: 'backlog' });
    expect(decideRampTick(state(), { ...healthy, backlogBatches: 2, maxBacklogBatches: 2 }, clock.now())).toMatchObject({ kind: 'advance' });
  });

  it.each(['throttle', 'pause', 'halt'] as const)('waits while guardrails say %s', (guardrail) => {
    clock.advance(3_600_000);
    expect(decideRampTick(state(), { ...healthy, guardrail }, clock.now())).toMatchObject({ kind: 'wait', reason: 'guardrail' });
  });

  it('waits while the admission flag is killed', () => {
    clock.advance(3_600_000);
    expect(decideRampTick(state(), { ...healthy, flagKilled: true }, clock.now())).toMatchObject({ kind: 'wait', reason: 'flag_killed' });
  });

  it('waits for approval of a step that requires it, then advances', () => {
    const s = state({ currentStep: 1, plannedPpm: 10_000 });
    clock.advance(3_600_000);
    expect(decideRampTick(s, healthy, clock.now())).toMatchObject({ kind: 'wait', reason: 'approval' });
    expect(decideRampTick({ ...s, approvedStep: 2 }, healthy, clock.now())).toMatchObject({ kind: 'advance', from: 1, to: 2 });
  });

  it('never advances past the last step', () => {
    clock.advance(10 * 3_600_000);
    expect(decideRampTick(state({ currentStep: 4, plannedPpm: 1_000_000 }), healthy, clock.now())).toMatchObject({ kind: 'wait', reason: 'final_step' });
  });

  it('checks in order: status, plan, flag, guardrails, last step, hold, planning, backlog, approval', () => {
    const worst: RampFigures = { backlogBatches: 9, maxBacklogBatches: 0, guardrail: 'halt', flagKilled: true, materialized: true };
    expect(decideRampTick(state({ status: 'paused' }), worst, clock.now())).toMatchObject({ reason: 'not_running' });
    expect(decideRampTick(state(), worst, clock.now())).toMatchObject({ reason: 'flag_killed' });
    expect(decideRampTick(state(), { ...worst, flagKilled: false }, clock.now())).toMatchObject({ reason: 'guardrail' });
    expect(decideRampTick(state({ plannedPpm: 0 }), { ...worst, flagKilled: false, guardrail: 'ok' }, clock.now())).toMatchObject({ reason: 'hold' });
    clock.advance(3_600_000);
    expect(decideRampTick(state({ plannedPpm: 0 }), { ...worst, flagKilled: false, guardrail: 'ok' }, clock.now())).toMatchObject({ reason: 'planning' });
    expect(decideRampTick(state(), { ...worst, flagKilled: false, guardrail: 'ok' }, clock.now())).toMatchObject({ reason: 'backlog' });
  });
});

describe('ramp helpers', () => {
  it('holdRemainingMs is null before the ramp and never negative', () => {
    expect(holdRemainingMs(state({ currentStep: -1, stepEnteredAt: null }), new Date(T0))).toBeNull();
    expect(holdRemainingMs(state(), new Date(T0 + 10 * 3_600_000))).toBe(0);
    expect(holdRemainingMs(state(), new Date(T0 + 60_000))).toBe(59 * 60_000);
  });

  it('finds passed points of no return between target and current', () => {
    expect(passedPointsOfNoReturn(PLAN, 4, 0)).toEqual([3]);
    expect(passedPointsOfNoReturn(PLAN, 4, 3)).toEqual([]);
    expect(passedPointsOfNoReturn(PLAN, 3, 2)).toEqual([3]);
    expect(passedPointsOfNoReturn(PLAN, 2, 0)).toEqual([]);
  });

  it('lists the approvals still missing up to a target', () => {
    expect(approvalsMissing(state({ currentStep: 0 }), 4)).toEqual([2]);
    expect(approvalsMissing(state({ currentStep: 0, approvedStep: 2 }), 4)).toEqual([]);
    expect(approvalsMissing(state({ currentStep: 0 }), 1)).toEqual([]);
  });

  it('stepPpm is 0 before the ramp and outside the plan', () => {
    expect(stepPpm(PLAN, -1)).toBe(0);
    expect(stepPpm(PLAN, 3)).toBe(250_000);
    expect(stepPpm(PLAN, 9)).toBe(0);
  });

  it('a new plan may not change the ppm of a step already entered', () => {
    const next = [...PLAN.slice(0, 2), step(60_000), step(500_000)];
    expect(firstChangedPassedStep(PLAN, next, 1)).toBeNull();
    expect(firstChangedPassedStep(PLAN, next, 2)).toBe(2);
    expect(firstChangedPassedStep(PLAN, [step(200)], 0)).toBe(0);
    expect(firstChangedPassedStep(PLAN, [step(1)], -1)).toBeNull();
  });

  it('stepsOf reads the JSON column leniently', () => {
    expect(stepsOf(null)).toEqual([]);
    expect(stepsOf([{ ppm: 5, holdMinutes: 0.5 }])).toEqual([step(5, 0.5)]);
  });
});

describe('rampStepsSchema', () => {
  it('accepts percent and holdSeconds and normalises them', () => {
    expect(rampStepsSchema.parse([{ percent: 0.01, holdSeconds: 30 }, { ppm: 1_000_000 }])).toEqual([step(100, 0.5), step(1_000_000, 0)]);
  });

  it.each<[unknown[], string]>([
    [[], '(empty)'],
    [[{ ppm: 5, percent: 1 }], 'both ppm and percent'],
    [[{ holdMinutes: 1 }], 'neither ppm nor percent'],
    [[{ ppm: 10 }, { ppm: 10 }], 'not increasing'],
    [[{ ppm: 0 }], 'zero ppm'],
    [[{ ppm: 1_000_001 }], 'above 100%'],
    [[{ ppm: 5, holdMinutes: 1, holdSeconds: 60 }], 'both hold units'],
    [[{ ppm: 5, extra: true }], 'unknown field'],
  ])('rejects %j (%s)', (steps, _why) => {
    expect(rampStepsSchema.safeParse(steps).success).toBe(false);
  });
});
