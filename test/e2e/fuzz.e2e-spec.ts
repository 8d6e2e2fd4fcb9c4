import fc from 'fast-check';
import type { TestApi } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { NASTY_STRINGS, bodyArb, dbFingerprint, encodeAny, headersArb, paramArb, queryArb, userTables } from './fuzz.helpers';
import { errorShapeViolation } from './hostile.helpers';
import { probe, startRecordingApi } from './security.helpers';
import { TestDb } from '../support/test-db';

/** Random inputs per route; 60-odd routes make about 2,000 requests in all (about a minute on 2 cores). */
const RUNS_PER_ROUTE = 30;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface Tally {
  requests: number;
  rejectedChecked: number;
  serverErrors: number;
  shapeViolations: number;
  byStatus: Record<number, number>;
}

/**
 * Bad input against every route of the running API (its Fastify route table): random and
 * hostile bodies (NUL, lone surrogates, deep JSON, bytes that are not UTF-8, huge numbers,
 * over-long strings), path parameters, query strings and headers, sent with an admin key so
 * they reach the validators. Never a 5xx; every error answer in the documented shape
 * `{code, message, details}`; and a request answered 4xx changed nothing in PostgreSQL (a
 * fingerprint of every table, before and after each request).
 */
describe('bad input: property tests over every route', () => {
  let api: TestApi;
  let routes: string[];
  let db: TestDb;
  let tables: string[];
  let keyIds: Set<string>;
  const real: Record<string, string[]> = {};
  const tally: Tally = { requests: 0, rejectedChecked: 0, serverErrors: 0, shapeViolations: 0, byStatus: {} };

  beforeAll(async () => {
    ({ api, routes } = await startRecordingApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '100000', MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE: '100000', HTTP_BODY_LIMIT_BYTES: '262144' }));
    db = await TestDb.connect(api.env);
    tables = await userTables(db);
    await db.seedUsers(200);
    await createFlag(api, 'fz-flag', 500_000);
    const running = await createCampaign(api, { key: 'fz-running', name: 'fuzz running', flag: 'fz-flag' });
    await act(api, running.id, 'start');
    const draft = await createCampaign(api, { key: 'fz-draft', name: 'fuzz draft', flag: 'fz-flag' });
    real.id = [running.id, 'fz-running', draft.id, 'fz-draft', '1', '42', '200'];
    real.key = ['fz-flag', 'fz-other'];
    real.userId = ['1', '7', '150'];
    real.holdId = ['1', '2'];
    real.name = ['app.js', 'app.css', 'index.html'];
    real['*'] = ['openapi.json', 'index.html', 'swagger-ui-init.js'];
    keyIds = new Set((await db.query<{ id: string }>(`SELECT id::text AS id FROM api_keys`)).map((r) => r.id));
  }, 60_000);
  afterAll(async () => {
    console.log(
      `fuzz: ${tally.requests} requests over ${routes?.length ?? 0} routes; ${tally.serverErrors} answered 5xx; ${tally.shapeViolations} not in the error shape; ` +
        `${tally.rejectedChecked} rejected writes checked for no change; statuses ${JSON.stringify(tally.byStatus)}`,
    );
    await db?.close();
    await api?.close();
  });

  async function send(method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string> }) {
    const before = await dbFingerprint(db, tables);
    const r = await probe(api.url, method, path, { key: api.adminKey, body: opts.body, headers: opts.headers, bodyMs: 30 });
    tally.requests++;
    tally.byStatus[r.status] = (tally.byStatus[r.status] ?? 0) + 1;
    const where = `${method} ${path.slice(0, 300)} body=${JSON.stringify(String(opts.body ?? '').slice(0, 300))} headers=${JSON.stringify(opts.headers ?? {}).slice(0, 300)}`;
    if (r.status >= 500) tally.serverErrors++;
    if (r.status >= 500) throw new Error(`${r.status} for ${where}: ${r.text.slice(0, 300)}`);
    const shape = r.headers.get('content-type')?.startsWith('text/event-stream') ? null : errorShapeViolation(r.status, r.text);
    if (shape) tally.shapeViolations++;
    if (shape) throw new Error(`not in the error shape for ${where}: ${shape}`);
    if (r.status >= 400) {
      tally.rejectedChecked++;
      const after = await dbFingerprint(db, tables);
      if (after !== before) throw new Error(`rejected with ${r.status} but the database changed: ${where}: ${r.text.slice(0, 200)}`);
    }
    return r;
  }

  it('never answers 5xx and never writes on a rejection, for random bodies, parameters, query strings and headers', async () => {
    const failures: string[] = [];
    const targets = routes.filter((r) => !r.startsWith('HEAD '));
    expect(targets.length).toBeGreaterThan(50);
    for (const route of targets) {
      const [method, url] = route.split(' ');
      const names = [...url.matchAll(/:(\w+)|(\*)$/g)].map((m) => m[1] ?? '*');
      const params = fc.record(Object.fromEntries(names.map((n) => [n, paramArb(real[n] ?? ['x'])])) as Record<string, fc.Arbitrary<string>>);
      const body = WRITE_METHODS.has(method) ? bodyArb : fc.constant(undefined);
      // every route runs its full share even after another one failed: the report lists them all
      await fc
        .assert(
          fc.asyncProperty(params, queryArb, headersArb, body, async (p, query, headers, b) => {
            if (url === '/api/v1/keys/:id/revoke') fc.pre(!keyIds.has(p.id.trim()));
            if (url === '/api/v1/users/seed' && b) fc.pre(!/"count":\s*[1-9]\d{4,}/.test(String(b)));
            // one pass over the route: a chained .replace(/\*$/) also hit a generated value that
            // ended in '*' (encodeURIComponent keeps it), a test bug seen once in CI
            const path = url.replace(/:(\w+)|\*$/g, (_m, n: string | undefined) => encodeAny(p[n ?? '*']));
            await send(method, path + query, { body: b, headers: b === undefined ? omit(headers, 'content-type') : headers });
          }),
          { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
        )
        .catch((err: Error) => failures.push(`${route}: ${((err.cause as Error | undefined)?.message ?? err.message).slice(0, 600)}`));
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('answers every hand-picked hostile path parameter and query value below 500 on every route', async () => {
    const hostile = NASTY_STRINGS.filter((x) => x.trim() !== '');
    const wrong: string[] = [];
    for (const route of routes.filter((r) => !r.startsWith('HEAD '))) {
      const [method, url] = route.split(' ');
      if (!/:\w+|\*$/.test(url)) continue;
      for (const v of hostile) {
        if (url === '/api/v1/keys/:id/revoke' && keyIds.has(v.trim())) continue;
        const path = url.replace(/:(\w+)|\*$/g, () => encodeAny(v));
        const r = await send(method, `${path}?cursor=${encodeAny(v)}&limit=${encodeAny(v)}`, { body: WRITE_METHODS.has(method) ? '{}' : undefined }).catch((e: Error) => ({ status: 500, text: e.message }));
        if (r.status >= 500) wrong.push(`${route} with ${JSON.stringify(v)}: ${r.text.slice(0, 200)}`);
      }
    }
    for (const v of hostile) {
      for (const path of ['/api/v1/flags', '/api/v1/campaigns', '/api/v1/audit', '/api/v1/keys', '/api/v1/progress/campaigns']) {
        const r = await send('GET', `${path}?cursor=${encodeAny(v)}`, {}).catch((e: Error) => ({ status: 500, text: e.message }));
        if (r.status >= 500) wrong.push(`GET ${path}?cursor=${JSON.stringify(v)}: ${r.text.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 180_000);

  it('answers any conversation context and any re-fetch parameters with an evaluation or a 400, never a 5xx', async () => {
    const participant = fc.oneof(fc.string(), fc.constantFrom(...NASTY_STRINGS), fc.record({ targetingKey: fc.oneof(fc.string(), fc.integer()), e2eeCapable: fc.anything() }, { requiredKeys: [] }), fc.anything());
    const conversation = fc.oneof(fc.anything(), fc.record({ id: fc.oneof(fc.string(), fc.anything()), participants: fc.oneof(fc.array(participant, { maxLength: 40 }), fc.anything()) }, { requiredKeys: [] }));
    const query = fc.record({ flagConfigEtag: fc.oneof(fc.string(), fc.constantFrom(...NASTY_STRINGS)), flagConfigLastModified: fc.oneof(fc.string(), fc.integer().map(String), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())) }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(conversation, query, fc.boolean(), async (conv, q, bulk) => {
        const qs = new URLSearchParams(q as Record<string, string>).toString();
        const path = bulk ? `/ofrep/v1/evaluate/flags?${qs}` : '/ofrep/v1/evaluate/flags/fz-flag';
        const r = await send('POST', path, { body: JSON.stringify({ context: { conversation: conv } }) });
        return r.status === 200 || r.status === 400;
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('refuses a body that is not JSON on the OFREP routes (400, not an evaluation of an empty context)', async () => {
    for (const ct of ['application/x-ndjson', 'text/csv']) {
      for (const path of ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/fz-flag']) {
        const r = await send('POST', path, { body: '{"context":{"targetingKey":"1"}}', headers: { 'content-type': ct } });
        expect({ ct, path, status: r.status }).toEqual({ ct, path, status: 400 });
        expect(JSON.parse(r.text).errorCode).toBe('INVALID_CONTEXT');
      }
    }
  });

  it('answers oversized bodies with 413 and huge headers with 431 on every write route, writing nothing', async () => {
    const big = JSON.stringify({ key: 'x', description: 'y'.repeat(300_000) });
    const writes = routes.filter((r) => WRITE_METHODS.has(r.split(' ')[0]));
    for (const route of writes) {
      const [method, url] = route.split(' ');
      const path = url.replace(/:(\w+)/g, (_m, n: string) => encodeURIComponent((real[n] ?? ['x'])[0]));
      const r = await send(method, path, { body: big });
      expect({ route, status: r.status }).toEqual({ route, status: 413 });
      const users = await db.query(`SELECT count(*)::int AS n FROM users`);
      const ndjson = await send(method, path, { body: `${'{"id":1,'.repeat(40_000)}\n`, headers: { 'content-type': 'application/x-ndjson' } });
      if (url === '/api/v1/users/import') {
        // the import answers 200 with the rejected lines counted; nothing of a bad line is stored
        expect(JSON.parse(ndjson.text)).toMatchObject({ rejected: 1, valid: 0 });
      } else {
        expect({ route, status: ndjson.status, text: ndjson.status < 400 ? ndjson.text.slice(0, 200) : "" }).toMatchObject({ route, text: "" });
      }
      expect(await db.query(`SELECT count(*)::int AS n FROM users`)).toEqual(users);
    }
    const h = await send('GET', '/api/v1/flags', { headers: { 'x-padding': 'p'.repeat(40_000) } });
    expect(h.status).toBe(431);
  }, 120_000);

  it('refuses negative, fractional, out-of-range and non-numeric percentages with a 400 naming the field', async () => {
    const flag = await api.request('GET', '/api/v1/flags/fz-flag');
    const etag = flag.headers.get('etag')!;
    const cases: Array<[string, string]> = [
      ['rolloutPercent', '-1'], ['rolloutPercent', '100.5'], ['rolloutPercent', '12.345678'], ['rolloutPercent', '"50"'], ['rolloutPercent', '1e400'], ['rolloutPercent', 'null'],
      ['rolloutPpm', '-1'], ['rolloutPpm', '0.5'], ['rolloutPpm', '1000001'], ['rolloutPpm', '"1000"'], ['rolloutPpm', '-1e400'], ['rolloutPpm', 'true'],
    ];
    for (const [field, value] of cases) {
      const r = await send('POST', '/api/v1/flags/fz-flag/rollout', { body: `{"${field}":${value}}`, headers: { 'if-match': etag, 'content-type': 'application/json' } });
      expect({ field, value, status: r.status }).toEqual({ field, value, status: 400 });
      expect(r.text).toContain(`body.${field}`);
    }
    const nan = await send('POST', '/api/v1/flags/fz-flag/rollout', { body: '{"rolloutPercent":NaN}', headers: { 'if-match': etag, 'content-type': 'application/json' } });
    expect(nan.status).toBe(400);
    expect(JSON.parse(nan.text).code).toBe('request.malformed_json');
    for (const step of ['{"percent":-5}', '{"percent":0}', '{"percent":100.01}', '{"ppm":0.5}', '{"ppm":-1}', '{"ppm":1000001}']) {
      const r = await send('PUT', '/api/v1/campaigns/fz-draft/ramp', { body: `{"steps":[${step}]}`, headers: { 'if-match': '"0"', 'content-type': 'application/json' } });
      expect({ step, status: r.status }).toEqual({ step, status: 400 });
      expect(r.text).toMatch(/body\.steps\.0\.(percent|ppm)/);
    }
    expect((await api.request('GET', '/api/v1/flags/fz-flag')).body.rolloutPpm).toBe(500_000);
  });

  it('keeps SQL-looking strings as data: keys refused by the key rules, free text stored verbatim', async () => {
    const sql = "x'); DELETE FROM flags; --";
    const r = await send('POST', '/api/v1/flags', { body: JSON.stringify({ key: sql }) });
    expect(r.status).toBe(400);
    const created = await api.request('POST', '/api/v1/flags', { body: { key: 'fz-sql', description: sql } });
    expect(created.status).toBe(201);
    expect((await api.request('GET', '/api/v1/flags/fz-sql')).body.description).toBe(sql);
    const audit = await api.request('GET', `/api/v1/audit?entityId=${encodeURIComponent(sql)}`);
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([]);
    expect((await db.query(`SELECT count(*)::int AS n FROM flags`))[0].n).toBeGreaterThanOrEqual(2);
  });
});

function omit(h: Record<string, string>, name: string): Record<string, string> {
  const { [name]: _drop, ...rest } = h;
  return rest;
}
