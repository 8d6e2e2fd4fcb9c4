import { campaignEta, rampRate, remainingRanges } from './pace';
import type { RampStep } from './ramp-plan';

const step = (ppm: number, holdMinutes = 0, requiresApproval = false): RampStep => ({ ppm, holdMinutes, requiresApproval, pointOfNoReturn: false });

describe('rampRate', () => {
  it('prefers the throughput the ramp achieved, bounded by the pace', () => {
    expect(rampRate({ maxUsersPerSecond: 2000, paceUsersPerSecond: 0, ramp: { processed: 900, busySeconds: 3 } })).toEqual({ usersPerSecond: 300, source: 'ramp_throughput' });
    expect(rampRate({ maxUsersPerSecond: 2000, paceUsersPerSecond: 100, ramp: { processed: 900, busySeconds: 3 } })).toEqual({ usersPerSecond: 100, source: 'ramp_throughput' });
    expect(rampRate({ maxUsersPerSecond: 0, paceUsersPerSecond: 0, ramp: { processed: 900, busySeconds: 3 } })).toEqual({ usersPerSecond: 300, source: 'ramp_throughput' });
  });

  it('ignores less than a second of batches, then falls back to the pace and the configured maximum', () => {
    expect(rampRate({ maxUsersPerSecond: 2000, paceUsersPerSecond: 700, ramp: { processed: 500, busySeconds: 0.2 } })).toEqual({ usersPerSecond: 700, source: 'pace' });
    expect(rampRate({ maxUsersPerSecond: 2000, paceUsersPerSecond: 0, ramp: null })).toEqual({ usersPerSecond: 2000, source: 'max_pace' });
    expect(rampRate({ maxUsersPerSecond: null, paceUsersPerSecond: 0, ramp: { processed: 0, busySeconds: 0 } })).toBeNull();
  });
});

describe('campaignEta', () => {
  const rate = { usersPerSecond: 2000, source: 'max_pace' as const };
  const base = { status: 'running' as const, rate, steps: [step(10_000, 10), step(1_000_000, 0, true)], currentStep: 0, holdRemainingMs: 120_000 };

  it('sums, step by step, the longer of the hold and the users at the rate', () => {
    expect(campaignEta({ ...base, usersByStep: [100, 1_000_000] })).toEqual({ seconds: 120 + 500, reason: null, approvalsAhead: [1] });
    expect(campaignEta({ ...base, currentStep: -1, holdRemainingMs: null, usersByStep: [100, 0] })).toEqual({ seconds: 600, reason: null, approvalsAhead: [1] });
  });

  it('has none while draft, paused or halted, and zero once completed', () => {
    for (const status of ['draft', 'paused', 'halted'] as const) expect(campaignEta({ ...base, status, usersByStep: [1, 1] })).toMatchObject({ seconds: null, reason: status });
    expect(campaignEta({ ...base, status: 'completed', usersByStep: [1, 1] })).toMatchObject({ seconds: 0, reason: null });
    expect(campaignEta({ ...base, rate: null, usersByStep: [1, 0] })).toMatchObject({ seconds: null, reason: 'no_pace' });
  });

  it('covers the ranges above what the planner admitted', () => {
    expect(remainingRanges(base.steps, 0, 4_000)).toEqual([{ fromPpm: 4_000, toPpm: 10_000 }, { fromPpm: 10_000, toPpm: 1_000_000 }]);
    expect(remainingRanges(base.steps, 1, 1_000_000)).toEqual([{ fromPpm: 1_000_000, toPpm: 1_000_000 }]);
  });
});
