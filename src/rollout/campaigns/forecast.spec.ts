import { binsOf, forecastStep, usersInRange, type HistogramBin } from './forecast';

/** 1,000 bins; bin b holds b users of whom b/2 (rounded down) are capable. */
const bins: HistogramBin[] = Array.from({ length: 1000 }, (_, b) => ({ bin: b, total: b, capable: Math.floor(b / 2) }));
const sum = (from: number, to: number, f: (b: number) => number) => Array.from({ length: to - from }, (_, i) => f(from + i)).reduce((a, b) => a + b, 0);
const NOW = new Date(Date.UTC(2026, 0, 1));

describe('usersInRange', () => {
  it('is exact on bin edges', () => {
    expect(usersInRange(bins, 10_000, 20_000)).toEqual({ users: sum(10, 20, (b) => b), eligible: sum(10, 20, (b) => Math.floor(b / 2)), ineligible: sum(10, 20, (b) => b - Math.floor(b / 2)), exact: true });
  });

  it('prorates partial bins and says so', () => {
    const r = usersInRange([{ bin: 3, total: 1000, capable: 500 }], 3_250, 3_750);
    expect(r).toEqual({ users: 500, eligible: 250, ineligible: 250, exact: false });
  });

  it('an empty or inverted range (lowering) admits nobody', () => {
    expect(usersInRange(bins, 5_000, 5_000)).toEqual({ users: 0, eligible: 0, ineligible: 0, exact: true });
    expect(usersInRange(bins, 9_000, 5_000).users).toBe(0);
  });

  it('the whole range covers every user', () => {
    expect(usersInRange(bins, 0, 1_000_000).users).toBe(sum(0, 1000, (b) => b));
  });

  it('binsOf names the bins a range touches', () => {
    expect(binsOf(0, 1_000_000)).toEqual({ first: 0, last: 999 });
    expect(binsOf(3_250, 3_750)).toEqual({ first: 3, last: 3 });
    expect(binsOf(3_000, 5_000)).toEqual({ first: 3, last: 4 });
    expect(binsOf(100, 100)).toEqual({ first: 0, last: 0 });
  });
});

describe('forecastStep', () => {
  const range = { bins: [{ bin: 0, total: 1000, capable: 600 }], fromPpm: 0, toPpm: 1000, now: NOW, status: 'running' as const };

  it('divides the eligible users by the ramp rate', () => {
    const f = forecastStep({ ...range, rate: { usersPerSecond: 100, source: 'pace' } });
    expect(f.rate).toEqual({ usersPerSecond: 100, source: 'pace' });
    expect([f.etaSeconds, f.etaReason]).toEqual([6, null]);
    expect(f.etaAt).toBe(new Date(NOW.getTime() + 6000).toISOString());
  });

  it('has no ETA while paused or halted, whatever the pace', () => {
    for (const status of ['paused', 'halted'] as const) {
      expect(forecastStep({ ...range, status, rate: { usersPerSecond: 100, source: 'pace' } })).toMatchObject({ etaSeconds: null, etaAt: null, etaReason: status });
    }
  });

  it('has no ETA without a rate, and a zero ETA when nobody is eligible', () => {
    expect(forecastStep({ ...range, rate: null })).toMatchObject({ etaSeconds: null, etaAt: null, etaReason: 'no_pace', rate: { source: null } });
    expect(forecastStep({ ...range, bins: [{ bin: 0, total: 10, capable: 0 }], rate: null }).etaSeconds).toBe(0);
  });
});
