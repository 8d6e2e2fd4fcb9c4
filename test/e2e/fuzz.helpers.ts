import fc from 'fast-check';
import type { TestDb } from './migration.helpers';

/** Strings that look like SQL, paths, templates or control sequences. */
export const NASTY_STRINGS = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(5)',
  "\" OR \"\"=\"",
  "1' UNION SELECT key, hash FROM api_keys --",
  '$1',
  '%s%s%s%n',
  '${7*7}',
  '{{7*7}}',
  '../../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\u202e\u0644\u0627',
  '🔐🗝️👩‍👩‍👧‍👦',
  'ǅǈǋ Ωmega ﬃ',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  'prototype',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '9223372036854775808',
  '9999999999999999999',
  '18446744073709551616',
  '-9223372036854775809',
  '0x10',
  '   ',
  '',
];

const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 8 }).map((s) => s.repeat(500)),
);

/** Numbers an endpoint taking a percentage or a count should refuse or handle. */
const nastyNumber = fc.oneof(
  fc.constantFrom(-1, -0.5, 0, 0.00001, 0.123456, 1.5, 99.99999, 100, 100.0001, 101, 1e6, 1_000_001, -1e6, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 1e308, Number.MIN_VALUE),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -2_000_000, max: 2_000_000 }),
);

const leaf = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null));

/** Field names the API's schemas use, so random bodies reach the validators' inner rules. */
export const FIELD_NAMES = [
  'key', 'name', 'description', 'flag', 'flagId', 'kind', 'variants', 'offVariant', 'rolloutVariant', 'rules', 'rolloutPpm',
  'rolloutPercent', 'salt', 'hashVersion', 'reason', 'userId', 'method', 'campaign', 'count', 'seed', 'country', 'platform',
  'appVersion', 'e2eeCapable', 'attributes', 'populationFilter', 'pacing', 'steps', 'guardrails', 'step', 'context', 'role',
  'targetingKey', 'ppm', 'percent', 'holdMinutes', 'rules', 'filter', 'metric', 'threshold', 'action', 'id', 'cursor', 'limit',
];
const fieldName = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...FIELD_NAMES) }, { weight: 1, arbitrary: nastyString });

const structured = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fieldName, tie('value'), { maxKeys: 6 }),
})).value;

/** A body shaped like the API's (known field names) with hostile values. */
const shapedBody = fc.dictionary(fieldName, structured, { minKeys: 1, maxKeys: 5 }).map((o) => JSON.stringify(o));

/** Nesting far beyond any schema: arrays or objects 20 to 10,000 levels deep, at the top or under a field. */
const deepBody = fc.tuple(fc.integer({ min: 20, max: 10_000 }), fc.boolean(), fc.constantFrom(...FIELD_NAMES)).map(([depth, arrays, k]) =>
  arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `{"${k}":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
);

/** Text PostgreSQL cannot store, in values and in keys: NUL, lone surrogates (JSON escapes make them real). */
const unstorable = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\udc00\ud800y', '\ud83d'),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\u0000', '\ud800', '\udc00'), fc.string({ maxLength: 20 })).map(([a, bad, b]) => `${a}${bad}${b}`),
);
const unstorableBody = fc
  .tuple(fc.dictionary(fc.constantFrom(...FIELD_NAMES), structured, { maxKeys: 3 }), fc.constantFrom(...FIELD_NAMES), unstorable, fc.boolean())
  .map(([base, k, bad, asKey]) => JSON.stringify(asKey ? { ...base, [k]: { [bad]: 1 } } : { ...base, [k]: bad }));

/** JSON whose strings hold bytes that are not UTF-8 (overlong forms, surrogates, stray continuation bytes). */
const INVALID_UTF8 = [[0xff], [0xfe, 0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];
const invalidUtf8Body = fc
  .tuple(fc.constantFrom(...FIELD_NAMES), fc.constantFrom(...INVALID_UTF8), fc.string({ maxLength: 10 }))
  .map(([k, bytes, s]) => Buffer.concat([Buffer.from(`{"${k}":"${s.replace(/["\\]/g, '')}`), Buffer.from(bytes), Buffer.from('"}')]));

/** Numbers past every range: 1e400 (Infinity once parsed), 30-digit integers, 2^64. */
const hugeNumberBody = fc
  .tuple(fc.constantFrom(...FIELD_NAMES), fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '18446744073709551616', '1e308', '9007199254740993', '0.000000000000000000000000001'))
  .map(([k, n]) => `{"${k}":${n}}`);

/** Strings of 20 to 200 thousand characters (the fuzz body limit is 256 kB). */
const overLongBody = fc
  .tuple(fc.constantFrom(...FIELD_NAMES), fc.integer({ min: 20_000, max: 200_000 }), fc.constantFrom('x', 'é', '🔐', '\\u0000'))
  .map(([k, n, unit]) => `{"${k}":"${unit.repeat(Math.ceil(n / unit.length))}"}`);

/** Keys of 1 to 60 thousand characters, in unicode. */
const longKeyBody = fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }), fc.integer({ min: 1_000, max: 15_000 })).map(([s, n]) =>
  JSON.stringify({ [s.repeat(n)]: 1, key: s.repeat(Math.ceil(n / 50)) }),
);

/** Percentages and ppm that are negative, fractional, out of range or not numbers at all (NaN is not JSON: a parse error). */
const percentBody = fc
  .tuple(fc.constantFrom('rolloutPercent', 'rolloutPpm', 'percent', 'ppm', 'count', 'step', 'userId'), fc.oneof(nastyNumber.map(String), fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '"50"', '"50%"', 'null', '[]', '{}', '0x10', '1_000')))
  .map(([k, v]) => `{"${k}":${v}}`);

/** Text that is not JSON, or only nearly. */
const rawText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('{', '{"a":', '[1,2', 'null', 'true', '"str"', '123', '{"a":1}{"b":2}', '\ufeff{}', '{"a":1,}', "{'a':1}", '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}'),
);

export const bodyArb: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { weight: 4, arbitrary: shapedBody },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: percentBody },
  { weight: 1, arbitrary: deepBody },
  { weight: 1, arbitrary: longKeyBody },
  { weight: 2, arbitrary: unstorableBody },
  { weight: 1, arbitrary: invalidUtf8Body },
  { weight: 1, arbitrary: hugeNumberBody },
  { weight: 1, arbitrary: overLongBody },
  { weight: 2, arbitrary: rawText },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** encodeURIComponent that also sends lone surrogates, as the invalid UTF-8 bytes ED A0 80. */
export function encodeAny(s: string): string {
  return encodeURIComponent(s.replace(LONE_SURROGATE, '\ufffd')).replace(/%EF%BF%BD/g, '%ED%A0%80');
}

const QUERY_NAMES = ['limit', 'cursor', 'status', 'includeArchived', 'entityType', 'entityId', 'action', 'actorId', 'since', 'until', 'resolution', 'ppm', 'percent', 'flags', 'key'];
export const queryArb = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), nastyString), fc.oneof(nastyString, nastyNumber.map(String))), { maxLength: 4 })
  .chain((pairs) => fc.constantFrom('&', '&&').map((sep) => (pairs.length ? '?' + pairs.map(([k, v]) => `${encodeAny(k)}=${encodeAny(v)}`).join(sep) : '')));

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-ndjson', 'text/csv', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16', 'application/xml', '*/*', 'garbage'];
export const headersArb = fc.record(
  {
    'content-type': fc.constantFrom(...CONTENT_TYPES),
    'if-match': fc.oneof(fc.constantFrom('"1"', '"2"', 'W/"1"', '*', '"abc"', '"99999999999999999999"', '"-1"', '"1.5"', '1'), nastyString.map((s) => s.replace(/[^\x20-\x7e]/g, ''))),
    'if-none-match': fc.constantFrom('*', '"x"', 'W/"1", "2"'),
    'x-request-id': fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    accept: fc.constantFrom('application/json', 'text/event-stream', 'text/html', '*/*', 'image/png'),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity', 'x-nonsense'),
  },
  { requiredKeys: [] },
);

/** Path parameters: real ones (so deeper code runs) and hostile ones. */
export function paramArb(real: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...real) },
    { weight: 3, arbitrary: nastyString.filter((s) => s.length > 0).map((s) => s.slice(0, 900)) },
    { weight: 1, arbitrary: nastyNumber.map(String) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String) },
  );
}

/**
 * A fingerprint of every table in the database: row count and the newest row version
 * (max xmin), so an insert, update or delete anywhere changes it. API keys are fingerprinted
 * by their content without last_used_at, which any authenticated request may write (off the
 * request's path, at most once a minute per key).
 */
export async function dbFingerprint(db: TestDb, tables: string[]): Promise<string> {
  const apiKeys = `(SELECT count(*) || ':' || coalesce(md5(string_agg(row(id, name, prefix, hash, role, created_by, created_at, revoked_at)::text, ',' ORDER BY id)), '') FROM api_keys)`;
  const sql = tables.map((t) => (t === 'api_keys' ? apiKeys : `(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM "${t}")`)).join(` || '|' || `);
  const rows = await db.query<{ f: string }>(`SELECT ${sql} AS f`);
  return rows[0].f;
}

export async function userTables(db: TestDb): Promise<string[]> {
  const rows = await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '\\_prisma%' ORDER BY 1`);
  return rows.map((r) => r.t);
}
