import { durationsOutOfShape } from '../../../test/support/durations';
import { compact, duration, hold, percent, step, time } from './assets/format';

describe('dashboard formatting', () => {
  it.each([
    [null, '—'],
    [0, '0 s'],
    [0.4, '0 s'],
    [59.4, '59 s'],
    [59.6, '1 min'],
    [61, '1 min 1 s'],
    [600, '10 min'],
    [3599.4, '59 min 59 s'],
    [3599.5, '1 h'],
    [3660, '1 h 1 min'],
    [5399.9, '1 h 30 min'],
    [86_369, '23 h 59 min'],
    [86_399, '1 d'],
    [86_400, '1 d'],
    [169_200, '1 d 23 h'],
    [172_799, '2 d'],
    [604_798, '7 d'],
    [-3, '0 s'],
  ])('duration(%p) is %p', (seconds, text) => {
    expect(duration(seconds)).toBe(text);
  });

  it('never writes a unit at its carry value or a fraction', () => {
    expect(durationsOutOfShape(duration, /^\d+ (s|min|h|d)( \d+ (s|min|h))?$/)).toEqual([]);
  });

  it('writes ramp holds given in minutes as durations', () => {
    expect(hold(1 / 3)).toBe('20 s');
    expect(hold(60)).toBe('1 h');
    expect(hold(10_080)).toBe('7 d');
    expect(hold(1440 - 1 / 120)).toBe('1 d');
    expect(hold(0)).toBe('none');
  });

  it('counts steps from 1', () => {
    expect(step(0, 4)).toBe('step 1 of 4');
    expect(step(3, 4)).toBe('step 4 of 4');
  });

  it('writes times in the local zone with the zone shown, keeping the ISO form', () => {
    const iso = '2026-11-26T12:00:05.000Z';
    expect(time(iso, { locale: 'en-GB', timeZone: 'Europe/Berlin' })).toEqual({ text: '26 Nov 2026, 13:00:05 CET', iso });
    expect(time(iso, { locale: 'en-US', timeZone: 'UTC' }).text).toBe('Nov 26, 2026, 12:00:05 PM UTC');
    expect(time(null)).toEqual({ text: '—', iso: '' });
  });

  it('writes shares and axis numbers compactly', () => {
    expect(percent(0.51)).toBe('51.0%');
    expect(percent(0.0005)).toBe('0.050%');
    expect([compact(950), compact(40_000), compact(1_250_000)]).toEqual(['950', '40K', '1.3M']);
  });
});
