import { CsvDecoder, decodeNdjson, ImportHeaderError, splitCsvLine, toCopyLine } from './import-rows';

const row = { id: '7', country: 'de', platform: 'ios', appVersion: '6.4.0', e2eeCapable: true };

describe('import rows', () => {
  it('decodes an NDJSON object, upper-casing the country and accepting snake_case names', () => {
    expect(decodeNdjson(JSON.stringify(row))).toEqual({
      row: { id: 7n, country: 'DE', platform: 'ios', appVersion: '6.4.0', e2eeCapable: true, attributes: {} },
    });
    const snake = decodeNdjson(JSON.stringify({ id: 8, country: 'BR', platform: 'web', app_version: '2.1', e2ee_capable: false }));
    expect(snake).toMatchObject({ row: { id: 8n, appVersion: '2.1', e2eeCapable: false } });
  });

  it('names the field of each problem', () => {
    expect(decodeNdjson('[1]')).toEqual({ reason: 'expected a JSON object' });
    expect(decodeNdjson('{')).toEqual({ reason: 'not valid JSON' });
    const r = decodeNdjson(JSON.stringify({ ...row, id: 0, platform: 'nokia' }));
    expect('reason' in r && r.reason).toMatch(/^id: .*; platform: /);
    expect(decodeNdjson(JSON.stringify({ ...row, app_version: '1' }))).toEqual({ reason: 'app_version: given twice (also as appVersion)' });
    expect(decodeNdjson(JSON.stringify({ ...row, id: '9223372036854775808' }))).toEqual({ reason: expect.stringMatching(/^id: must be a positive 64-bit integer id/) });
  });

  it('splits CSV with quotes and refuses broken quoting', () => {
    expect(splitCsvLine('a,"b,c","d ""e""",')).toEqual(['a', 'b,c', 'd "e"', '']);
    expect(splitCsvLine('"unterminated')).toBeNull();
    expect(splitCsvLine('a"b,c')).toBeNull();
    expect(splitCsvLine('"a"b,c')).toBeNull();
  });

  it('maps CSV columns, extra columns to attributes, and validates the header', () => {
    const d = new CsvDecoder('\uFEFFid,country,platform,app_version,e2ee_capable,attributes,tier');
    expect(d.decode('5,NL,android,6.3.2,yes,"{""a"":1}",gold')).toEqual({
      row: { id: 5n, country: 'NL', platform: 'android', appVersion: '6.3.2', e2eeCapable: true, attributes: { tier: 'gold', a: 1 } },
    });
    expect(d.decode('5,NL,android,6.3.2,yes,[1],')).toEqual({ reason: 'attributes: expected a JSON object' });
    expect(() => new CsvDecoder('id,country,platform')).toThrow(ImportHeaderError);
    expect(() => new CsvDecoder('id,id,country,platform,app_version,e2ee_capable')).toThrow(/twice/);
  });

  it('writes COPY text with escaped backslashes', () => {
    const ok = { id: 1n, country: 'DE', platform: 'ios' as const, appVersion: '1.0', e2eeCapable: false, attributes: { p: 'a\\b\tc' } };
    expect(toCopyLine(ok, 3)).toBe('1\tDE\tios\t1.0\tf\t{"p":"a\\\\\\\\b\\\\tc"}\t3\n');
    expect(toCopyLine({ ...ok, attributes: { p: '\\u0000 literally' } }, 1)).toEqual(expect.any(String));
  });

  it('refuses attributes jsonb cannot store or that nest too deep, naming where, in both formats', () => {
    const line = (attributes: string) => `{"id":1,"country":"DE","platform":"ios","appVersion":"1.0","e2eeCapable":true,"attributes":${attributes}}`;
    expect(decodeNdjson(line('{"p":"a\\u0000"}'))).toEqual({ reason: expect.stringMatching(/^attributes\.p: .*NUL/) });
    expect(decodeNdjson(line('{"p":["\\ud800"]}'))).toEqual({ reason: expect.stringMatching(/^attributes\.p\.0: .*surrogate/) });
    expect(decodeNdjson(line(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`))).toEqual({ reason: expect.stringMatching(/^attributes(\.a){31}: nested deeper than 32/) });
    const csv = new CsvDecoder('id,country,platform,app_version,e2ee_capable,team');
    expect(csv.decode('5,NL,android,6.3.2,yes,x\u0000y')).toEqual({ reason: expect.stringMatching(/^attributes\.team: .*NUL/) });
  });
});
