import { findHostileInput, jsonTooDeepAt, MAX_JSON_DEPTH, normalizeText, textProblem, truncateText } from './hostile-input';

function nested(depth: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

describe('hostile input', () => {
  it('finds text PostgreSQL cannot store: NUL and lone surrogates, not valid pairs', () => {
    expect(textProblem('plain 🔐 ǅ')).toBeNull();
    expect(textProblem('a\u0000b')).toMatch(/NUL/);
    expect(textProblem('\ud800')).toMatch(/surrogate/);
    expect(textProblem('x\udc00y')).toMatch(/surrogate/);
    expect(textProblem('\ud83d\udd10')).toBeNull();
  });

  it('names the field of the first bad value, in values and in keys', () => {
    expect(findHostileInput({ a: [1, { b: 'ok' }, { c: 'x\u0000' }] }, 'body')).toEqual({ field: 'body.a.2.c', message: expect.stringMatching(/NUL/) });
    expect(findHostileInput({ attrs: { ['k\ud800']: 1 } }, 'body')).toEqual({ field: 'body.attrs.k\ufffd', message: expect.stringMatching(/key .*surrogate/) });
    expect(findHostileInput(JSON.parse('{"__proto__":{"admin":true}}'), 'body')?.field).toBe('body.__proto__');
    expect(findHostileInput({ constructor: { prototype: { x: 1 } } }, 'body')?.field).toBe('body.constructor.prototype');
    expect(findHostileInput('\u0000', 'body')).toMatchObject({ field: 'body' });
    expect(findHostileInput({ fine: ['a', 1, null, true, { b: 2 }] }, 'query')).toBeNull();
  });

  it('refuses nesting past the limit without recursion, at any depth', () => {
    expect(findHostileInput(nested(MAX_JSON_DEPTH), 'body')).toBeNull();
    const deep = findHostileInput({ attributes: nested(100_000) }, 'body');
    expect(deep?.message).toMatch(/deeper than 32/);
    expect(deep?.field).toBe(`body.attributes${'.a'.repeat(MAX_JSON_DEPTH - 1)}`);
  });

  it('locates too-deep JSON text by a scan, keys and indexes included, without parsing it', () => {
    expect(jsonTooDeepAt(JSON.stringify(nested(MAX_JSON_DEPTH)))).toBeNull();
    expect(jsonTooDeepAt(`{"x":"[[[[{{{{","y":[1,{"z":${'['.repeat(40)}${']'.repeat(40)}}]}`)).toEqual(['y', 1, 'z', ...Array(29).fill(0)]);
    expect(jsonTooDeepAt(`{"a\\"b":${'{"c":'.repeat(40)}1${'}'.repeat(40)}}`)?.slice(0, 2)).toEqual(['a"b', 'c']);
    expect(jsonTooDeepAt('['.repeat(1_000_000))).toHaveLength(MAX_JSON_DEPTH);
    expect(jsonTooDeepAt('{"unterminated')).toBeNull();
  });

  it('normalizes and cuts text for the kill switches without breaking a surrogate pair', () => {
    expect(normalizeText('a\u0000b\ud800c')).toBe('a\ufffdb\ufffdc');
    expect(normalizeText('ok')).toBe('ok');
    expect(truncateText('abcdef', 4)).toBe('abc…');
    expect(truncateText('ab🔐cd', 4)).toBe('ab…');
    expect(truncateText('abc', 4)).toBe('abc');
  });
});
