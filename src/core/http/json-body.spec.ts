import { parseJsonBody } from './json-body';

function failure(raw: string | Buffer): { code: string; message: string; details: unknown } {
  try {
    parseJsonBody(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
  } catch (err) {
    return err as { code: string; message: string; details: unknown };
  }
  throw new Error('expected a failure');
}

describe('JSON request bodies', () => {
  it('parses JSON', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,"x"]}'))).toEqual({ a: [1, 'x'] });
  });

  it('says an empty body is empty and a malformed one malformed, with the position when known', () => {
    expect(failure('')).toMatchObject({ code: 'request.empty_body', message: expect.stringMatching(/empty/) });
    expect(failure('{"a":1')).toMatchObject({ code: 'request.malformed_json', message: expect.stringMatching(/not valid JSON.*at position 6/), details: { position: 6 } });
    expect(failure('{"a":').details).toEqual({ field: 'body', position: 5 });
    const echo = failure(`{"a":}${'x'.repeat(100)}`);
    expect(echo.message).toMatch(/^the body is not valid JSON: Unexpected token/);
    expect(echo.message).not.toContain('xxxx');
  });

  it('refuses bytes that are not UTF-8 instead of storing replacement characters', () => {
    expect(failure(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toMatchObject({ code: 'request.invalid_utf8' });
    expect(failure(Buffer.from('{"a":"\xed\xa0\x80"}', 'latin1')).code).toBe('request.invalid_utf8');
  });

  it('refuses nesting past 32 levels before parsing, naming where', () => {
    const err = failure(`{"attributes":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`) as unknown as { issues: Array<{ field: string }> };
    expect(err.issues[0].field).toMatch(/^body\.attributes(\.a){31}$/);
  });
});
