import { PreconditionRequiredError, BadRequestError } from '../errors/domain-error';
import { toJsonSafe } from '../json';
import { etagFor, versionFromIfMatch } from './etag';

describe('ETag / If-Match', () => {
  it('round-trips a version', () => {
    expect(versionFromIfMatch(etagFor(7))).toBe(7);
    expect(versionFromIfMatch('W/"12"')).toBe(12);
    expect(versionFromIfMatch('3')).toBe(3);
    expect(versionFromIfMatch(['"4"', '"5"'])).toBe(4);
  });
  it('asks for the header when it is missing (428) and rejects garbage (400)', () => {
    expect(() => versionFromIfMatch(undefined)).toThrow(PreconditionRequiredError);
    expect(() => versionFromIfMatch('  ')).toThrow(PreconditionRequiredError);
    expect(() => versionFromIfMatch('"abc"')).toThrow(BadRequestError);
    expect(() => versionFromIfMatch('"-1"')).toThrow(BadRequestError);
  });
});

describe('toJsonSafe', () => {
  it('turns bigints and dates into strings, deeply', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(toJsonSafe({ a: 1n, b: [2n, { c: at }], d: null, e: 'x' })).toEqual({
      a: '1',
      b: ['2', { c: '2026-01-01T00:00:00.000Z' }],
      d: null,
      e: 'x',
    });
  });
});
