import { startTestApi, type TestApi } from '../support/app';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const NDJSON = 'application/x-ndjson';
const CSV = 'text/csv';

function ndjsonUser(id: number | string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, country: 'DE', platform: 'ios', appVersion: '6.4.0', e2eeCapable: true, ...over });
}

describe('users import: streamed NDJSON and CSV into PostgreSQL', () => {
  let api: TestApi;
  let db: TestDb;
  let operator: string;

  beforeAll(async () => {
    api = await startTestApi({ USERS_IMPORT_MAX_LINE_BYTES: '512', USERS_IMPORT_REJECTED_SAMPLE: '3' });
    operator = await api.newKey('operator');
    db = await TestDb.connect(api.env);
  });
  afterAll(async () => {
    await db.close();
    await api.close();
  });

  const importBody = (body: string, contentType: string, key = operator) =>
    api.request('POST', '/api/v1/users/import', { rawBody: body, key, headers: { 'content-type': contentType } });
  const user = async (id: string) => (await db.query('SELECT * FROM users WHERE id = $1', [id]))[0];

  it('imports NDJSON, rejects bad lines with their line numbers and reasons, and audits the counts', async () => {
    const lines = [
      ndjsonUser(101),
      ndjsonUser('102', { platform: 'android', attributes: { locale: 'de-DE', note: 'tab\there \\ "q"' } }),
      '{"id": 103, "country": "DE"',
      '',
      ndjsonUser(104, { country: 'Germany' }),
      ndjsonUser(105, { shoeSize: 44 }),
      JSON.stringify({ id: 106, country: 'fr', platform: 'web', app_version: '2.26.4', e2ee_capable: false }),
      '{"id": 90071992547409930, "country": "DE", "platform": "ios", "appVersion": "1.0", "e2eeCapable": true}',
      ndjsonUser(108, { attributes: { bad: 'nul\u0000char' } }),
    ];
    const r = await importBody(lines.join('\n') + '\n', NDJSON);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ format: 'ndjson', read: 8, valid: 3, rejected: 5, inserted: 3, updated: 0, unchanged: 0, duplicates: 0 });
    // only the first 3 rejected lines are reported (USERS_IMPORT_REJECTED_SAMPLE)
    expect(r.body.rejectedLines).toEqual([
      { line: 3, reason: 'not valid JSON' },
      { line: 5, reason: expect.stringContaining('country: must be an ISO 3166-1 alpha-2 code') },
      { line: 6, reason: expect.stringMatching(/shoeSize/) },
    ]);
    expect(await user('102')).toMatchObject({ platform: 'android', attributes: { locale: 'de-DE', note: 'tab\there \\ "q"' } });
    expect(await user('106')).toMatchObject({ country: 'FR', platform: 'web', app_version: '2.26.4', e2ee_capable: false });
    expect(await user('104')).toBeUndefined();

    const audit = await api.request('GET', `/api/v1/audit?action=users.imported&entityId=${r.body.importId}`);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ actor: { role: 'operator' }, after: { read: 8, valid: 3, rejected: 5, inserted: 3 } });
  });

  it('reports every rejection reason of a line: unsafe JSON numbers, NUL characters, overlong lines', async () => {
    const r = await api.request('POST', '/api/v1/users/import', {
      rawBody: [
        '{"id": 90071992547409930, "country": "DE", "platform": "ios", "appVersion": "1.0", "e2eeCapable": true}',
        ndjsonUser(201, { attributes: { bad: 'nul\u0000char' } }),
        ndjsonUser(202, { attributes: { big: 'x'.repeat(600) } }),
        ndjsonUser(203),
      ].join('\n'),
      key: operator,
      headers: { 'content-type': NDJSON },
    });
    expect(r.body.rejectedLines).toEqual([
      { line: 1, reason: 'id: is above 2^53, where JSON numbers lose digits: write ids this large as strings' },
      { line: 2, reason: expect.stringContaining('NUL') },
      { line: 3, reason: expect.stringContaining('longer than 512 bytes') },
    ]);
    expect(r.body).toMatchObject({ read: 4, valid: 1, inserted: 1 });
  });

  it('imports CSV with a header, quoting, CRLF, extra columns as attributes, and rejects bad lines', async () => {
    const csv = [
      'id,country,platform,app_version,e2ee_capable,segment',
      '301,BR,android,6.3.2,true,"beta, early"',
      '302,BR,android,6.3.2,maybe,x',
      '303,BR,android,6.3.2,false',
      '304,US,desktop,3.12.0,0,',
      '305,US,"ios",6.4.0,1,"say ""hi"""',
    ].join('\r\n');
    const r = await importBody(csv, 'text/csv; charset=utf-8');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ format: 'csv', read: 5, valid: 3, rejected: 2, inserted: 3 });
    expect(r.body.rejectedLines).toEqual([
      { line: 3, reason: 'e2eeCapable: expected true or false' },
      { line: 4, reason: 'expected 6 fields, found 5' },
    ]);
    expect(await user('301')).toMatchObject({ country: 'BR', e2ee_capable: true, attributes: { segment: 'beta, early' } });
    expect(await user('304')).toMatchObject({ platform: 'desktop', e2ee_capable: false, attributes: {} });
    expect((await user('305')).attributes).toEqual({ segment: 'say "hi"' });
  });

  it('re-running an import duplicates nobody; a changed row is updated and the last line of an id wins', async () => {
    const file = [ndjsonUser(401), ndjsonUser(402), ndjsonUser(403)].join('\n');
    expect((await importBody(file, NDJSON)).body).toMatchObject({ inserted: 3, updated: 0, unchanged: 0 });
    const before = await user('401');
    expect((await importBody(file, NDJSON)).body).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    expect((await user('401')).updated_at).toEqual(before.updated_at);

    const changed = [ndjsonUser(401, { appVersion: '6.5.0' }), ndjsonUser(404), ndjsonUser(404, { country: 'NL' })].join('\n');
    expect((await importBody(changed, NDJSON)).body).toMatchObject({ valid: 3, duplicates: 1, inserted: 1, updated: 1, unchanged: 0 });
    expect(await user('401')).toMatchObject({ app_version: '6.5.0' });
    expect(await user('404')).toMatchObject({ country: 'NL' });
    const rows = await db.query('SELECT count(*)::int AS n FROM users WHERE id BETWEEN 401 AND 404');
    expect(rows[0].n).toBe(4);
  });

  it('runs concurrent imports of overlapping files one after the other, without duplicates or errors', async () => {
    const a = Array.from({ length: 2_000 }, (_, i) => ndjsonUser(600_000 + i)).join('\n');
    const b = Array.from({ length: 2_000 }, (_, i) => ndjsonUser(601_000 + i, { country: 'PL' })).join('\n');
    const [ra, rb, seeded] = await Promise.all([
      importBody(a, NDJSON),
      importBody(b, NDJSON),
      api.request('POST', '/api/v1/users/seed', { body: { count: 100 }, key: operator }),
    ]);
    expect([ra.status, rb.status, seeded.status]).toEqual([200, 200, 200]);
    expect(ra.body.inserted + rb.body.inserted).toBe(3_000);
    expect(ra.body.inserted + ra.body.updated + rb.body.inserted + rb.body.updated).toBeGreaterThanOrEqual(3_000);
    const rows = await db.query(`SELECT count(*)::int AS n FROM users WHERE id BETWEEN 600000 AND 602999`);
    expect(rows[0].n).toBe(3_000);
  });

  it('refuses a CSV without the required columns, an unknown media type, and a viewer key; leaves no staging table', async () => {
    const bad = await importBody('id,country\n1,DE\n', CSV);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'users.import_bad_header', message: expect.stringContaining('platform') });
    const empty = await importBody('', CSV);
    expect(empty.body).toMatchObject({ code: 'users.import_bad_header' });
    const wrongType = await importBody(ndjsonUser(1), 'application/xml');
    expect(wrongType.status).toBe(415);
    const viewer = await api.newKey('viewer');
    expect((await importBody(ndjsonUser(1), NDJSON, viewer)).status).toBe(403);
    const rows = await db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'users_import_%'`);
    expect(rows[0].n).toBe(0);
  });

  it('imports nothing when the client goes away mid-upload, and leaves no staging table', async () => {
    const controller = new AbortController();
    let copiedBeforeAbort = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 20; i++) {
        yield Buffer.from(Array.from({ length: 1_000 }, (_, j) => `${ndjsonUser(700_000 + i * 1_000 + j)}\n`).join(''));
      }
      copiedBeforeAbort = await waitForCopyProgress(db);
      controller.abort();
      yield Buffer.from('');
    }
    const upload = fetch(`${api.url}/api/v1/users/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': NDJSON },
      body: body() as unknown as ReadableStream,
      duplex: 'half',
      signal: controller.signal,
    } as RequestInit);
    await expect(upload).rejects.toThrow();
    expect(copiedBeforeAbort).toBeGreaterThan(0);
    const staged = async () => (await db.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'users_import_%'`))[0].n as number;
    await waitFor('the aborted import to drop its staging table', staged, (n) => n === 0, 10_000, 50);
    const rows = await db.query('SELECT count(*)::int AS n FROM users WHERE id BETWEEN 700000 AND 719999');
    expect(rows[0].n).toBe(0);
  });

  it('streams a 250k-row file: rows reach COPY before the upload ends, past the JSON body limit', async () => {
    const total = 250_000;
    const half = 125_000;
    let copiedBeforeEnd = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let start = 0; start < total; start += 5_000) {
        if (start === half) copiedBeforeEnd = await waitForCopyProgress(db);
        let chunk = '';
        for (let i = start; i < start + 5_000; i++) chunk += `${ndjsonUser(1_000_000 + i, { attributes: { n: i } })}\n`;
        yield Buffer.from(chunk);
      }
    }
    const res = await fetch(`${api.url}/api/v1/users/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': NDJSON },
      body: body() as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const summary = (await res.json()) as { bytes: number };
    expect(res.status).toBe(200);
    expect(summary).toMatchObject({ read: total, valid: total, inserted: total, rejected: 0 });
    expect(summary.bytes).toBeGreaterThan(api.env.config.http.bodyLimitBytes);
    // the server had copied rows of the first half while the second half was not sent yet
    expect(copiedBeforeEnd).toBeGreaterThan(0);
    const rows = await db.query('SELECT count(*)::int AS n FROM users WHERE id >= 1000000');
    expect(rows[0].n).toBe(total);
  });
});

/** Polls PostgreSQL's progress view until the import's COPY has processed rows. */
async function waitForCopyProgress(db: TestDb): Promise<number> {
  const copied = async () =>
    (await db.query(`SELECT tuples_processed::int AS n FROM pg_stat_progress_copy p JOIN pg_class c ON c.oid = p.relid WHERE p.datname = current_database() AND c.relname LIKE 'users_import_%'`))[0]?.n ?? 0;
  return waitFor('the import COPY to process rows', copied, (n: number) => n > 0, 10_000, 50);
}
