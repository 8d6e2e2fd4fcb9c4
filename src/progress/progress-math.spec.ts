import { computeProgress, demandUsers, rampStepsOf, throughputOver } from './progress-math';
import type { CampaignRow, ProgressInputs, StateCounts } from './progress.types';
import { retentionCutoffs } from './sampler.service';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const at = (offsetMs: number) => new Date(T0 + offsetMs);
const states = (s: Partial<StateCounts>): StateCounts => ({ legacy: 0, ineligible: 0, eligible: 0, enrolling: 0, enabled: 0, failed: 0, held: 0, ...s });

function campaign(c: Partial<CampaignRow> = {}): CampaignRow {
  return {
    id: 1n, key: 'c', name: 'C', status: 'running', version: 1, flagId: 1n, pacing: { maxUsersPerSecond: 100 }, rampPlan: [], guardrails: [],
    guardrailState: {}, currentStep: -1, stepEnteredAt: null, approvedStep: -1, admittedPpm: 0, plannedPpm: 0, paceUsersPerSecond: 0,
    populationSize: 0n, startedAt: null, completedAt: null, haltedAt: null, haltReason: null, haltToLastCommitMs: null, lastEnabledAt: null,
    updatedAt: at(0), ...c,
  };
}

function inputs(i: Partial<ProgressInputs> = {}): ProgressInputs {
  return {
    campaign: campaign(),
    counters: { states: states({}), recovery: { prompted: 0, pin: 0, recoveryCode: 0, cloudBackup: 0, deviceKeychain: 0 } },
    backlog: { queued: 0, running: 0, oldestQueuedAt: null },
    recentBatches: { claimed: 0, enabled: 0, failed: 0, backendErrors: 0 },
    admitted: { users: 0, capable: 0 },
    capableBins: new Array<number>(1000).fill(0),
    rampBusy: { processed: 0, busySeconds: 0 },
    recentSamples: [],
    ...i,
  };
}

describe('throughputOver', () => {
  const now = { at: at(0), enabled: 1000 };
  it('uses the newest sample at least a window old', () => {
    const samples = [{ at: at(-300_000), states: states({ enabled: 0 }) }, { at: at(-100_000), states: states({ enabled: 500 }) }, { at: at(-30_000), states: states({ enabled: 900 }) }];
    expect(throughputOver(samples, now, 60_000)).toBe(5);
    expect(throughputOver(samples, now, 300_000)).toBeCloseTo(1000 / 300);
  });
  it('falls back to the oldest sample when history is shorter than the window, but not below 10 s', () => {
    expect(throughputOver([{ at: at(-20_000), states: states({ enabled: 800 }) }], now, 60_000)).toBe(10);
    expect(throughputOver([{ at: at(-5_000), states: states({ enabled: 800 }) }], now, 60_000)).toBeNull();
    expect(throughputOver([], now, 60_000)).toBeNull();
  });
  it('never reports a negative rate', () => {
    expect(throughputOver([{ at: at(-60_000), states: states({ enabled: 2000 }) }], now, 60_000)).toBe(0);
  });
});

describe('computeProgress', () => {
  it('computes share, ETA and failure ratios from the counters', () => {
    const p = computeProgress(
      inputs({
        counters: { states: states({ legacy: 100, eligible: 300, enabled: 500, failed: 100 }), recovery: { prompted: 100, pin: 50, recoveryCode: 25, cloudBackup: 20, deviceKeychain: 5 } },
        recentBatches: { claimed: 200, enabled: 150, failed: 50, backendErrors: 2 },
        recentSamples: [{ campaignId: 1n, at: at(-300_000), resolution: 'raw', states: states({ enabled: 200 }), throughputPerSecond: 0, paceUsersPerSecond: 0, admittedPpm: 0 }],
      }),
      at(0),
    );
    expect(p.counts.total).toBe(1000);
    expect(p.enabledShare).toBe(0.5);
    expect(p.throughput).toEqual({ perSecond1m: 1, perSecond5m: 1 });
    expect(p.eta).toMatchObject({ remainingUsers: 500, toProcess: 300, seconds: 3, at: at(3_000).toISOString(), reason: null, rate: { usersPerSecond: 100, source: 'max_pace' } });
    expect(p.failures).toEqual({ ratio: 100 / 600, recentRatio5m: 0.25, recentBackendErrors5m: 2 });
    expect(p.recovery.adoption).toBe(0.2);
  });
  it('has no ETA without a pace, and an ETA of 0 when nobody is left', () => {
    const noPace = computeProgress(inputs({ campaign: campaign({ pacing: { maxUsersPerSecond: 0 } }), counters: { states: states({ eligible: 1 }), recovery: { prompted: 0, pin: 0, recoveryCode: 0, cloudBackup: 0, deviceKeychain: 0 } } }), at(0));
    expect(noPace.eta).toMatchObject({ seconds: null, reason: 'no_pace', rate: null });
    expect(computeProgress(inputs(), at(0)).eta.seconds).toBe(0);
  });

  /** 100,000 capable users spread over the buckets; one step to 100%; one opted-in user in 5 minutes. */
  const wholeRamp = (c: Partial<CampaignRow>, i: Partial<ProgressInputs> = {}) =>
    computeProgress(
      inputs({
        campaign: campaign({ pacing: { maxUsersPerSecond: 2000 }, rampPlan: [{ ppm: 1_000_000, holdMinutes: 0 }], currentStep: 0, stepEnteredAt: at(-60_000), ...c }),
        capableBins: new Array<number>(1000).fill(100),
        counters: { states: states({ legacy: 100_000, enabled: 1 }), recovery: { prompted: 0, pin: 0, recoveryCode: 0, cloudBackup: 0, deviceKeychain: 0 } },
        recentSamples: [{ campaignId: 1n, at: at(-300_000), resolution: 'raw', states: states({ enabled: 0 }), throughputPerSecond: 0, paceUsersPerSecond: 0, admittedPpm: 0 }],
        ...i,
      }),
      at(0),
    );

  it('takes the ETA from the pace, never from the opt-in trickle (one user in 5 minutes, max pace 2,000/s)', () => {
    const p = wholeRamp({});
    expect(p.throughput.perSecond5m).toBeCloseTo(1 / 300);
    expect(p.eta).toMatchObject({ toProcess: 100_000, seconds: 50, reason: null, rate: { usersPerSecond: 2000, source: 'max_pace' } });
  });

  it('takes the throughput the ramp batches achieved, bounded by the pace', () => {
    expect(wholeRamp({}, { rampBusy: { processed: 3000, busySeconds: 3 } }).eta).toMatchObject({ seconds: 100, rate: { usersPerSecond: 1000, source: 'ramp_throughput' } });
    expect(wholeRamp({ paceUsersPerSecond: 500 }, { rampBusy: { processed: 3000, busySeconds: 1 } }).eta).toMatchObject({ seconds: 200, rate: { usersPerSecond: 500, source: 'ramp_throughput' } });
  });

  it('has no ETA while paused or halted, and says why', () => {
    expect(wholeRamp({ status: 'paused' }).eta).toMatchObject({ seconds: null, at: null, reason: 'paused' });
    expect(wholeRamp({ status: 'halted' }).eta).toMatchObject({ seconds: null, at: null, reason: 'halted' });
    expect(wholeRamp({ status: 'completed' }).eta).toMatchObject({ seconds: 0, reason: null });
  });

  it('adds the holds of the steps ahead to the time their users take', () => {
    const rampPlan = [{ ppm: 500_000, holdMinutes: 10 }, { ppm: 1_000_000, holdMinutes: 1, requiresApproval: true }];
    const p = wholeRamp({ rampPlan, stepEnteredAt: at(-4 * 60_000), plannedPpm: 500_000 }, { counters: { states: states({ eligible: 1000, legacy: 50_000 }), recovery: { prompted: 0, pin: 0, recoveryCode: 0, cloudBackup: 0, deviceKeychain: 0 } } });
    // step 1: 6 min of hold left (its 1,000 admitted users take 0.5 s); step 2: 50,000 users at 2,000/s = 25 s < its 1 min hold
    expect(p.eta).toMatchObject({ toProcess: 51_000, seconds: 360 + 60, approvalsAhead: [1] });
  });

  it('estimates conversation coverage as p^k and states the model', () => {
    const p = computeProgress(inputs({ campaign: campaign({ populationSize: 1000n }), counters: { states: states({ enabled: 500, legacy: 500 }), recovery: { prompted: 0, pin: 0, recoveryCode: 0, cloudBackup: 0, deviceKeychain: 0 } } }), at(0));
    expect(p.conversations).toMatchObject({ model: 'independent_participants', enabledShare: 0.5, oneToOne: 0.25 });
    expect(p.conversations.groups[0]).toEqual({ participants: 3, share: 0.125 });
    expect(p.conversations.description).toContain('p^k');
  });
  it('shows the hold left on the current step and whether the next one awaits approval', () => {
    const rampPlan = [{ ppm: 1000, holdMinutes: 10 }, { ppm: 5000, holdMinutes: 10, requiresApproval: true }];
    const holding = computeProgress(inputs({ campaign: campaign({ rampPlan, currentStep: 0, stepEnteredAt: at(-4 * 60_000) }) }), at(0));
    expect(holding.ramp).toMatchObject({ currentStep: 0, holdRemainingSeconds: 360, awaitingApproval: false });
    const waiting = computeProgress(inputs({ campaign: campaign({ rampPlan, currentStep: 0, stepEnteredAt: at(-11 * 60_000) }) }), at(0));
    expect(waiting.ramp).toMatchObject({ holdRemainingSeconds: 0, awaitingApproval: true });
    const approved = computeProgress(inputs({ campaign: campaign({ rampPlan, currentStep: 0, approvedStep: 1, stepEnteredAt: at(-11 * 60_000) }) }), at(0));
    expect(approved.ramp.awaitingApproval).toBe(false);
  });
  it('reads a missing or malformed ramp plan as no steps', () => {
    expect(rampStepsOf(null)).toEqual([]);
    expect(rampStepsOf([{ ppm: 10 }])).toEqual([{ ppm: 10, holdMinutes: 0, requiresApproval: false, pointOfNoReturn: false }]);
  });
});

describe('retentionCutoffs', () => {
  it('aligns to whole minutes and hours', () => {
    const c = retentionCutoffs(new Date(Date.UTC(2026, 10, 26, 12, 34, 56, 789)));
    expect(c.minute.toISOString()).toBe('2026-11-26T11:34:00.000Z');
    expect(c.hour.toISOString()).toBe('2026-11-25T12:00:00.000Z');
  });
});

describe('demandUsers', () => {
  const doc = (admittedCapableUsers: number, s: Partial<StateCounts>) => ({ admission: { admittedPpm: 0, plannedPpm: 0, admittedUsers: 0, admittedCapableUsers }, counts: { ...states(s), total: 0 } });

  it('counts admitted users not yet enabled, failed or held, whatever the backlog holds', () => {
    expect(demandUsers(doc(100_000, { enabled: 30_000, failed: 1_000, held: 500, eligible: 2_000, enrolling: 1_000, legacy: 60_000 }))).toBe(68_500);
  });

  it('never goes below the users queued and in flight (opt-ins beyond the ceiling) nor below zero', () => {
    expect(demandUsers(doc(0, { eligible: 40, enrolling: 10 }))).toBe(50);
    expect(demandUsers(doc(1_000, { enabled: 1_200 }))).toBe(0);
  });
});
