import type { TestApi } from '../support/app';
import { dbFingerprint, userTables } from './fuzz.helpers';
import { hostileCases, type Fixtures, type HostileCase } from './hostile-cases';
import { deepJson, errorShapeViolation, rawRequest } from './hostile.helpers';
import { TestDb, act, createCampaign, createFlag } from './migration.helpers';
import { startRecordingApi } from './security.helpers';

interface Tally {
  tried: number;
  serverErrors: string[];
  shapeViolations: string[];
  writesOnRejection: string[];
  killSwitches: number;
  killSwitchFailures: string[];
}

/**
 * Replays the hostile inputs of the independent review (every free-text field with NUL, lone
 * surrogates, 100 kB and deep JSON; bodies that are not JSON or not UTF-8; huge numbers;
 * import lines with deep JSON and invalid UTF-8; raw requests Node's parser refuses) and
 * counts: requests tried, 5xx (must be 0), answers not in `{code, message, details}` (must be
 * 0), rejected requests that wrote anything (must be 0). The kill switches take effect.
 */
describe('hostile input replay', () => {
  let api: TestApi;
  let db: TestDb;
  let tables: string[];
  let fx: Fixtures;
  let port: number;
  const tally: Tally = { tried: 0, serverErrors: [], shapeViolations: [], writesOnRejection: [], killSwitches: 0, killSwitchFailures: [] };

  beforeAll(async () => {
    ({ api } = await startRecordingApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '100000', MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE: '100000' }));
    port = Number(new URL(api.url).port);
    db = await TestDb.connect(api.env);
    tables = await userTables(db);
    await db.seedUsers(20);
    const flag = (await createFlag(api, 'hx-flag', 500_000)).key;
    const draft = (await createCampaign(api, { key: 'hx-draft', name: 'draft', flag })).id;
    const running = await started('hx-running');
    const halt = await started('hx-halt');
    const pause = await started('hx-pause');
    const killFlag = (await createFlag(api, 'hx-kill', 1_000_000)).key;
    const viewer = await api.request('POST', '/api/v1/keys', { body: { name: 'hx viewer', role: 'viewer' } });
    fx = { flag, draft, running, halt, pause, killFlag, viewerKeyId: viewer.body.apiKey.id, userId: '7' };
  }, 60_000);
  afterAll(async () => {
    const t = tally;
    console.log(`hostile replay: ${t.tried} requests tried, ${t.serverErrors.length} answered 5xx, ${t.shapeViolations.length} not in the error shape, ${t.writesOnRejection.length} rejected requests wrote, ${t.killSwitches} kill-switch requests answered 200`);
    await db?.close();
    await api?.close();
  });

  async function started(key: string): Promise<string> {
    const f = await createFlag(api, `${key}-flag`, 0);
    const c = await createCampaign(api, { key, name: key, flag: f.key });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    return c.id;
  }

  function count(label: string, status: number, text: string): void {
    tally.tried++;
    if (status >= 500) tally.serverErrors.push(`${label}: ${status} ${text.slice(0, 200)}`);
    const wrong = errorShapeViolation(status, text);
    if (wrong) tally.shapeViolations.push(`${label}: ${wrong}`);
  }

  async function send(c: HostileCase): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { authorization: `Bearer ${api.adminKey}` };
    if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
    if (c.ifMatch) headers['if-match'] = (await api.request('GET', c.ifMatch)).headers.get('etag') ?? '"0"';
    const before = await dbFingerprint(db, tables);
    const res = await fetch(api.url + c.path, { method: c.method, headers, body: c.body });
    const text = await res.text();
    count(c.label, res.status, text);
    if (c.kill && res.status === 200) tally.killSwitches++;
    else if (c.kill) tally.killSwitchFailures.push(`${c.label}: ${res.status} ${text.slice(0, 200)}`);
    else if (res.status >= 400 && (await dbFingerprint(db, tables)) !== before) tally.writesOnRejection.push(c.label);
    return { status: res.status, text };
  }

  it('answers every hostile request below 500, in the documented shape, writing nothing when it refuses', async () => {
    const cases = hostileCases(fx);
    expect(cases.length).toBeGreaterThan(250);
    for (const c of cases) await send(c);
    expect(tally.serverErrors).toEqual([]);
    expect(tally.shapeViolations).toEqual([]);
    expect(tally.writesOnRejection).toEqual([]);
    expect(tally.killSwitchFailures).toEqual([]);
    expect((await api.request('GET', `/api/v1/flags/${fx.killFlag}`)).body.killed).toBe(true);
    expect((await api.request('GET', `/api/v1/campaigns/${fx.halt}`)).body.status).toBe('halted');
    expect((await api.request('GET', `/api/v1/campaigns/${fx.pause}`)).body.status).toBe('paused');
    const evaluated = await api.request('POST', `/ofrep/v1/evaluate/flags/${fx.killFlag}`, { body: { context: { targetingKey: '1' } } });
    expect(evaluated.body).toMatchObject({ reason: 'DISABLED', value: false });
  }, 300_000);

  it('imports the good lines of a file and rejects deep JSON, invalid UTF-8, NUL and surrogates per line, by number', async () => {
    const user = (id: number, attributes: string) => `{"id":${id},"country":"DE","platform":"ios","appVersion":"6.4.0","e2eeCapable":true,"attributes":${attributes}}`;
    const lines: Array<string | Buffer> = [
      user(1001, '{"team":"a"}'),
      user(1002, deepJson(10_000)),
      Buffer.concat([Buffer.from(user(1003, '{"team":"').slice(0, -1)), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]),
      user(1004, '{"team":"x\\ud800"}'),
      user(1005, '{"team":"x\\u0000"}'),
      user(1006, '{"team":"b"}'),
      deepJson(10_000, true),
      '{"id":1e400,"country":"DE","platform":"ios","appVersion":"6.4.0","e2eeCapable":true}',
      Buffer.concat([Buffer.from('{"id":1009,"country":"D'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ];
    const body = Buffer.concat(lines.map((l) => Buffer.concat([Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')])));
    const before = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`);
    const res = await fetch(`${api.url}/api/v1/users/import`, { method: 'POST', headers: { authorization: `Bearer ${api.adminKey}`, 'content-type': 'application/x-ndjson' }, body });
    const summary = (await res.json()) as { rejectedLines: Array<{ line: number; reason: string }> };
    count('NDJSON import', res.status, JSON.stringify(summary));
    expect(res.status).toBe(200);
    expect(summary).toMatchObject({ read: 9, inserted: 2, rejected: 7 });
    const reasons = Object.fromEntries(summary.rejectedLines.map((r) => [r.line, r.reason]));
    expect(reasons).toEqual({
      2: expect.stringMatching(/^attributes(\.a){31}: nested deeper than 32/),
      3: 'line not valid UTF-8',
      4: expect.stringMatching(/^attributes\.team: .*surrogate/),
      5: expect.stringMatching(/^attributes\.team: .*NUL/),
      7: expect.stringMatching(/nested deeper than 32/),
      8: expect.stringMatching(/^id: /),
      9: 'line not valid UTF-8',
    });
    expect((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users`))[0].n).toBe(before[0].n + 2);
    const csv = Buffer.concat([Buffer.from('id,country,platform,app_version,e2ee_capable,team\n2001,DE,ios,6.4.0,true,ok\n2002,DE,ios,6.4.0,true,'), Buffer.from([0xc3, 0x28]), Buffer.from('\n2003,DE,ios,6.4.0,true,a\u0000b\n')]);
    const csvRes = await fetch(`${api.url}/api/v1/users/import`, { method: 'POST', headers: { authorization: `Bearer ${api.adminKey}`, 'content-type': 'text/csv' }, body: csv });
    const csvSummary = await csvRes.json();
    count('CSV import', csvRes.status, JSON.stringify(csvSummary));
    expect(csvSummary).toMatchObject({ inserted: 1, rejected: 2, rejectedLines: [{ line: 3, reason: 'line not valid UTF-8' }, { line: 4, reason: expect.stringMatching(/NUL/) }] });
  });

  it('answers what Node parser refuses (bad URL encoding, huge headers, bad bytes, broken framing) in the documented shape', async () => {
    const auth = `Authorization: Bearer ${api.adminKey}\r\n`;
    const raw: Array<[string, Buffer | string, number]> = [
      ['bad percent-encoding in the path', `GET /api/v1/flags/%E0%A4%A HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`, 400],
      ['surrogate bytes in the path', `GET /api/v1/flags/%ED%A0%80 HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`, 400],
      ['NUL in the query', `GET /api/v1/audit?entityId=a%00b HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`, 400],
      ['40 kB header', `GET /api/v1/flags HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(40_000)}\r\n\r\n`, 431],
      ['100 kB URL', `GET /api/v1/flags/${'u'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
      ['NUL in the request line', 'GET /\u0000 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['control byte in the method', 'G\u0001T / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['raw non-ASCII bytes in the path', Buffer.concat([Buffer.from('GET /api/v1/flags/'), Buffer.from([0xff, 0xfe]), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`)]), 400],
      ['NUL in a header name', 'GET / HTTP/1.1\r\nHo\u0000st: x\r\n\r\n', 400],
      ['bad chunk size', `POST /api/v1/keys HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`, 400],
      ['Content-Length not a number', `POST /api/v1/keys HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}`, 400],
      ['Content-Length with chunked', `POST /api/v1/keys HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`, 400],
      ['not HTTP at all', '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003', 400],
    ];
    const wrong: string[] = [];
    for (const [label, bytes, status] of raw) {
      const answer = await rawRequest(port, bytes);
      count(`raw: ${label}`, answer.status, answer.body);
      if (answer.status !== status) wrong.push(`${label}: ${answer.status} ${answer.body.slice(0, 160)}`);
    }
    expect(wrong).toEqual([]);
    expect(tally.serverErrors).toEqual([]);
    expect(tally.shapeViolations).toEqual([]);
  });
});
