import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { PinoNestLogger } from '../../src/core/logging/logger';
import { WorkerModule } from '../../src/worker.module';
import { createTestEnvironment, LogSink, startTestApi, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { probe } from './security.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const HELMET_HEADERS: Record<string, RegExp> = {
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^SAMEORIGIN$/,
  'strict-transport-security': /max-age=\d+/,
  'referrer-policy': /no-referrer/,
  'cross-origin-opener-policy': /same-origin/,
  'x-dns-prefetch-control': /^off$/,
  'x-download-options': /^noopen$/,
  'x-permitted-cross-domain-policies': /^none$/,
};

function missingSecurityHeaders(h: Headers): string[] {
  const bad = Object.entries(HELMET_HEADERS).filter(([name, re]) => !re.test(h.get(name) ?? '')).map(([n]) => n);
  if (h.get('x-powered-by')) bad.push('x-powered-by present');
  return bad;
}

describe('security: rate limits, headers and CORS', () => {
  let api: TestApi;
  let db: TestDb;
  let operator: string;

  beforeAll(async () => {
    api = await startTestApi({
      AUTH_FAILED_LIMIT_PER_MINUTE: '5',
      MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE: '2',
      HTTP_CORS_ORIGINS: 'https://ops.example.com, https://dash.example.org',
    });
    db = await TestDb.connect(api.env);
    operator = await api.newKey('operator');
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await api?.close();
  });

  it('answers failed authentications past the per-address limit with 429 and Retry-After, on Nest and OFREP routes, while valid keys still work', async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof probe>> | null = null;
    // the window opens at the first failure, so the limit+1st attempt is refused
    for (let i = 0; i < 6 && !limited; i++) {
      const r = await probe(api.url, i % 2 ? 'GET' : 'POST', i % 2 ? '/api/v1/flags' : '/ofrep/v1/evaluate/flags', {
        key: `co_zzzzzzzz_${'wrongsecret'.repeat(3)}${i}`,
        body: i % 2 ? undefined : '{"context":{"targetingKey":"1"}}',
      });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(limited).not.toBeNull();
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(JSON.parse(limited!.text)).toMatchObject({ code: 'auth.rate_limited' });
    // a request without any key counts as a failure too and is limited the same way
    expect((await probe(api.url, 'GET', '/api/v1/audit')).status).toBe(429);
    // a valid key from the same address is not locked out
    expect((await api.request('GET', '/api/v1/flags', { key: operator })).status).toBe(200);
  });

  it('limits opt-ins per user with 429 and Retry-After, and the limited call changes nothing', async () => {
    await db.seedUsers(50);
    await createFlag(api, 'sec-optin', 0);
    const c = await createCampaign(api, { key: 'sec-optin', name: 'opt-in limits', flag: 'sec-optin' });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { key: operator, body: { userId: '7' } })).status);
    expect(codes.slice(0, 2)).toEqual([200, 200]);
    const auditBefore = await db.query(`SELECT count(*)::int AS n FROM audit_events`);
    const limited = await api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { key: operator, body: { userId: '7' } });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'opt_in.rate_limited' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await db.query(`SELECT count(*)::int AS n FROM audit_events`)).toEqual(auditBefore);
    // another user is not affected by user 7's limit
    expect((await api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { key: operator, body: { userId: '8' } })).status).toBe(200);
  });

  it('sends the security headers on JSON, error, OFREP, dashboard, docs and metrics responses', async () => {
    const viewer = await api.newKey('viewer');
    const cases: Array<[string, string, string | null, string | undefined]> = [
      ['GET', '/api/v1/flags', viewer, undefined],
      ['GET', '/api/v1/flags/nope', viewer, undefined],
      ['GET', '/no/such/route', viewer, undefined],
      ['POST', '/api/v1/flags', operator, '{bad json'],
      ['POST', '/ofrep/v1/evaluate/flags', viewer, '{"context":{"targetingKey":"1"}}'],
      ['POST', '/ofrep/v1/evaluate/flags/nope', viewer, '{"context":{}}'],
      ['GET', '/', null, undefined],
      ['GET', '/docs/openapi.json', null, undefined],
      ['GET', '/metrics', null, undefined],
      ['GET', '/health/ready', null, undefined],
    ];
    const wrong: string[] = [];
    for (const [method, path, key, body] of cases) {
      const r = await probe(api.url, method, path, { key, body });
      const missing = missingSecurityHeaders(r.headers);
      if (missing.length) wrong.push(`${method} ${path} (${r.status}): ${missing.join(', ')}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers CORS only for origins on the allow-list (HTTP_CORS_ORIGINS), preflight included', async () => {
    const viewer = await api.newKey('viewer');
    for (const origin of ['https://ops.example.com', 'https://dash.example.org']) {
      const r = await probe(api.url, 'GET', '/api/v1/flags', { key: viewer, headers: { origin } });
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
      expect(r.headers.get('access-control-expose-headers')).toMatch(/ETag/i);
      const pre = await probe(api.url, 'OPTIONS', '/api/v1/flags', { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      expect(pre.status).toBeLessThan(300);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    }
    for (const origin of ['https://evil.example', 'https://ops.example.com.evil.example', 'null', 'http://ops.example.com']) {
      const r = await probe(api.url, 'GET', '/api/v1/flags', { key: viewer, headers: { origin } });
      expect({ origin, allow: r.headers.get('access-control-allow-origin') }).toEqual({ origin, allow: null });
      const pre = await probe(api.url, 'OPTIONS', '/api/v1/flags', { headers: { origin, 'access-control-request-method': 'POST' } });
      expect({ origin, allow: pre.headers.get('access-control-allow-origin') }).toEqual({ origin, allow: null });
    }
  });

  it('sends no CORS header to any origin when the allow-list is empty (the default)', async () => {
    const plain = await startTestApi({});
    try {
      const r = await probe(plain.url, 'GET', '/api/v1/flags', { key: plain.adminKey, headers: { origin: 'https://ops.example.com' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
  });
});

describe('security: no secret in any log line of a full run', () => {
  const PASSWORD = 'Pw-0f-the-test-database-9d2c';
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  const workerLogs = new LogSink();
  let db: TestDb;

  beforeAll(async () => {
    const base = await createTestEnvironment({
      LOG_LEVEL: 'trace',
      BACKEND_SIM_LATENCY_MS: '1',
      BACKEND_SIM_TRANSIENT_FAILURE_RATIO: '0.05',
      BACKEND_SIM_PERMANENT_FAILURE_RATIO: '0.02',
      MIGRATION_BATCH_SIZE: '500',
      MIGRATION_RETRY_BACKOFF_MS: '20',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      AUTH_FAILED_LIMIT_PER_MINUTE: '1000',
    });
    // the server trusts local connections, so a password in the URL is accepted and ignored:
    // it is there to prove that it never reaches a log line
    const url = new URL(base.config.database.url);
    url.username = 'postgres';
    url.password = PASSWORD;
    env = { ...base, config: { ...base.config, database: { ...base.config.database, url: url.toString() } } };
    api = await startTestApi(env);
    worker = await NestFactory.createApplicationContext(WorkerModule.forRoot(env.config), { logger: new PinoNestLogger(workerLogs.logger('trace')) });
    await worker.init();
    db = await TestDb.connect(base);
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('logs requests, errors and a campaign run at trace level without any API key, key secret or the database password', async () => {
    const secrets: string[] = [api.adminKey, PASSWORD];
    for (const role of ['viewer', 'operator', 'evaluator'] as const) secrets.push(await api.newKey(role));
    const created = await api.request('POST', '/api/v1/keys', { body: { name: 'made over http', role: 'operator' } });
    secrets.push(created.body.key);
    const [viewer, operator, evaluator] = secrets.slice(2);

    // authenticated traffic, failed authentication with near-miss keys, bad input, a 404
    await api.request('GET', '/api/v1/flags', { key: viewer });
    await api.request('POST', '/ofrep/v1/evaluate/flags', { key: evaluator, body: { context: { targetingKey: '1' } } });
    for (const s of secrets.slice(0, 1).concat(secrets.slice(2))) {
      await api.request('GET', '/api/v1/keys', { key: s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A') });
      // a client that puts its key in the URL: query parameters and a path segment
      await api.request('GET', `/api/v1/flags?token=${encodeURIComponent(s.slice(12))}&limit=5`, { key: 'co_aaaaaaaa_' + s.slice(12) });
      await api.request('GET', `/api/v1/audit?api_key=${s}&access_token=${s.slice(12)}`, { key: null });
      await api.request('GET', `/api/v1/users/${s}`, { key: viewer });
    }
    await api.request('POST', '/api/v1/flags', { key: operator, rawBody: '{"key":' });
    await api.request('POST', '/api/v1/keys', { body: { name: 'x', role: 'root', apiKey: secrets[0], password: PASSWORD } });
    await api.request('GET', '/api/v1/users/123456789', { key: viewer });

    // a small campaign with backend failures, run by the worker to the end
    await db.seedUsers(3_000);
    await createFlag(api, 'log-scan', 1_000_000);
    const c = await createCampaign(api, { key: 'log-scan', name: 'log scan', flag: 'log-scan' });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitFor('the campaign to settle', () => db.counters(c.id), (k) => k.legacy + k.eligible + k.enrolling === 0 && k.enabled > 0, 120_000, 300);
    expect((await act(api, c.id, 'halt', { reason: 'end of the log scan' })).status).toBe(200);

    const lines = [...api.logs.lines, ...workerLogs.lines];
    expect(lines.length).toBeGreaterThan(50);
    const leaks: string[] = [];
    for (const line of lines) {
      for (const s of secrets) {
        const secretPart = s.startsWith('co_') ? s.slice(12) : s;
        if (line.includes(secretPart)) leaks.push(`${secretPart.slice(0, 4)}… in ${line.slice(0, 200)}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 180_000);
});

describe('concurrency: two operators editing the same entity at once', () => {
  let api: TestApi;
  let db: TestDb;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    api = await startTestApi({});
    db = await TestDb.connect(api.env);
    alice = await api.newKey('operator');
    bob = await api.newKey('operator');
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await api?.close();
  });

  async function auditCount(entityType: string): Promise<number> {
    return (await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE entity_type = $1`, [entityType]))[0].n;
  }

  it('a flag: of two writes with the same If-Match exactly one wins, the other is 409, one audit row', async () => {
    for (let round = 0; round < 10; round++) {
      const key = `race-${round}`;
      await createFlag(api, key, 0);
      const etag = (await api.request('GET', `/api/v1/flags/${key}`)).headers.get('etag')!;
      const before = await auditCount('flag');
      const [a, b] = await Promise.all([
        api.request('PATCH', `/api/v1/flags/${key}`, { key: alice, body: { description: 'alice' }, headers: { 'if-match': etag } }),
        api.request('POST', `/api/v1/flags/${key}/rollout`, { key: bob, body: { rolloutPpm: 5000 }, headers: { 'if-match': etag } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(loser.body.code).toBe('flag.version_conflict');
      expect(await auditCount('flag')).toBe(before + 1);
      const now = (await api.request('GET', `/api/v1/flags/${key}`)).body;
      expect(a.status === 200 ? now.description === 'alice' && now.rolloutPpm === 0 : now.description !== 'alice' && now.rolloutPpm === 5000).toBe(true);
    }
  });

  it('a campaign: of two PATCHes with the same If-Match exactly one wins, the other is 409, one audit row', async () => {
    await createFlag(api, 'race-campaigns', 0);
    for (let round = 0; round < 10; round++) {
      const c = await createCampaign(api, { key: `race-c${round}`, name: 'race', flag: 'race-campaigns' });
      const before = await auditCount('campaign');
      const [a, b] = await Promise.all([
        api.request('PATCH', `/api/v1/campaigns/${c.id}`, { key: alice, body: { name: 'alice' }, headers: { 'if-match': c.etag } }),
        api.request('PATCH', `/api/v1/campaigns/${c.id}`, { key: bob, body: { pacing: { batchSize: 7 } }, headers: { 'if-match': c.etag } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      expect((a.status === 409 ? a : b).body.code).toBe('campaign.version_conflict');
      expect(await auditCount('campaign')).toBe(before + 1);
      const now = (await api.request('GET', `/api/v1/campaigns/${c.id}`)).body;
      expect(a.status === 200 ? now.name === 'alice' && now.pacing.batchSize !== 7 : now.name !== 'alice' && now.pacing.batchSize === 7).toBe(true);
    }
  });

  it('a campaign: start and halt racing on the same version — one wins, the other is 409', async () => {
    await createFlag(api, 'race-lifecycle', 0);
    for (let round = 0; round < 6; round++) {
      const c = await createCampaign(api, { key: `race-l${round}`, name: 'race', flag: 'race-lifecycle' });
      await act(api, c.id, 'start');
      const etag = (await api.request('GET', `/api/v1/campaigns/${c.id}`)).headers.get('etag')!;
      const [a, b] = await Promise.all([
        api.request('POST', `/api/v1/campaigns/${c.id}/pause`, { key: alice, body: {}, headers: { 'if-match': etag } }),
        api.request('POST', `/api/v1/campaigns/${c.id}/halt`, { key: bob, body: { reason: 'race test' }, headers: { 'if-match': etag } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const status = (await api.request('GET', `/api/v1/campaigns/${c.id}`)).body.status;
      expect(status).toBe(a.status === 200 ? 'paused' : 'halted');
    }
  });
});

