import { PARK_SPREAD_MS, parkDelayMs } from './pacer';

describe('parkDelayMs', () => {
  it('parks until the slot frees, plus at most the spread', () => {
    expect(parkDelayMs(50_000, 0)).toBe(50_000 + PARK_SPREAD_MS);
    expect(parkDelayMs(50_000, 3_600_000)).toBe(50_000);
    expect(parkDelayMs(0, 3_600_000)).toBe(1);
    expect(parkDelayMs(-5, 0)).toBe(1 + PARK_SPREAD_MS);
  });

  it('wakes an older job before a younger one waiting for the same slot', () => {
    const slot = 50_000;
    const ages = [0, 999, 1_000, 5_000, 30_000, 99_000];
    const delays = ages.map((age) => parkDelayMs(slot, age));
    // strictly earlier for every further second queued, up to 100 s
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeLessThanOrEqual(delays[i - 1]);
    expect(parkDelayMs(slot, 2_000)).toBeLessThan(parkDelayMs(slot, 1_000));
    expect(delays.every((d) => d >= slot && d <= slot + PARK_SPREAD_MS)).toBe(true);
  });

  it('treats a clock that went backwards as a new job', () => {
    expect(parkDelayMs(1_000, -10_000)).toBe(1_000 + PARK_SPREAD_MS);
  });
});
