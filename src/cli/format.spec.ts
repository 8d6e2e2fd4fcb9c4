import { durationsOutOfShape } from '../../test/support/durations';
import { duration, localTime, stepOf } from './format';

describe('CLI formatting', () => {
  it.each([
    [null, '-'],
    [0, '0s'],
    [59.4, '59s'],
    [59.6, '1m00s'],
    [61, '1m01s'],
    [3599.4, '59m59s'],
    [3599.5, '1h00m'],
    [7322, '2h02m'],
    [86_369, '23h59m'],
    [86_399, '1d'],
    [90_000, '1d1h'],
    [169_200, '1d23h'],
    [172_799, '2d'],
    [604_798, '7d'],
  ])('duration(%p) is %p', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });

  it('never writes a unit at its carry value or a fraction', () => {
    expect(durationsOutOfShape(duration, /^(\d+s|\d+m\d\ds|\d+h\d\dm|\d+d(\d+h)?)$/)).toEqual([]);
  });

  it('counts steps from 1', () => {
    expect(stepOf(1, 3)).toBe('step 2 of 3');
  });

  it('writes times in the local zone with the zone named', () => {
    expect(localTime('2026-11-26T12:00:05.000Z', 'Europe/Berlin')).toBe('2026-11-26 13:00:05 CET');
    expect(localTime('2026-07-01T12:00:05.000Z', 'Europe/Berlin')).toBe('2026-07-01 14:00:05 CEST');
    expect(localTime('2026-11-26T12:00:05.000Z', 'UTC')).toBe('2026-11-26 12:00:05 UTC');
    expect(localTime(null)).toBeNull();
  });
});
