import { startTestApi, type TestApi } from '../support/app';

describe('foundation: health, auth, keys, audit and bad input', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ HTTP_BODY_LIMIT_BYTES: '2048', AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  it('reports liveness, readiness (the snapshot is loaded) and the dependencies apart, without a key', async () => {
    expect((await api.request('GET', '/health/live', { key: null })).status).toBe(200);
    const ready = await api.request('GET', '/health/ready', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'up', checks: { flagSnapshot: 'ready' } });
    const deps = await api.request('GET', '/health/dependencies', { key: null });
    expect(deps.status).toBe(200);
    expect(deps.body).toEqual({ status: 'up', checks: { postgres: 'up', redis: 'up' } });
  });

  it('serves the OpenAPI description at /docs', async () => {
    const doc = await api.request('GET', '/docs/openapi.json', { key: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/keys', '/api/v1/audit']));
    // the OFREP routes are plain Fastify routes, described from their schemas in src/flags/ofrep.openapi.ts
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/ofrep/v1/evaluate/flags/{key}', '/ofrep/v1/evaluate/flags', '/ofrep/v1/events']));
    expect(doc.body.paths['/ofrep/v1/evaluate/flags/{key}'].post.responses['404']).toBeDefined();
    expect(doc.body.paths['/ofrep/v1/evaluate/flags'].post.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.body.components.securitySchemes)).toContain('bearer');
  });

  it('answers an unknown route with a JSON 404', async () => {
    const r = await api.request('GET', '/no/such/route');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 'http.not_found' });
  });

  it('answers malformed JSON with a 400 and an oversized body with a 413', async () => {
    const bad = await api.request('POST', '/api/v1/keys', { rawBody: '{"name": "x",' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'request.malformed_json' });
    const big = await api.request('POST', '/api/v1/keys', { body: { name: 'x'.repeat(5000), role: 'viewer' } });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'request.body_too_large' });
  });

  it('answers a body that is not JSON (text/plain included) with a 415', async () => {
    for (const type of ['text/plain', 'application/xml']) {
      const r = await api.request('POST', '/api/v1/keys', { rawBody: '{"name":"x","role":"viewer"}', headers: { 'content-type': type } });
      expect(r.status).toBe(415);
      expect(r.body).toMatchObject({ code: 'request.unsupported_media_type' });
    }
  });

  it('rejects a missing or unknown key with 401 and a weaker role with 403', async () => {
    expect((await api.request('GET', '/api/v1/keys', { key: null })).body).toMatchObject({ code: 'auth.unauthorized' });
    const unknown = await api.request('GET', '/api/v1/keys', { key: 'co_abcdefgh_ABCDEFGHIJKLMNOPQRSTUVWX' });
    expect(unknown.status).toBe(401);
    const viewer = await api.newKey('viewer');
    const forbidden = await api.request('GET', '/api/v1/keys', { key: viewer });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'auth.forbidden' });
  });

  it('names each invalid field in a 400', async () => {
    const r = await api.request('POST', '/api/v1/keys', { body: { name: '', role: 'root', extra: 1 } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('request.validation_failed');
    const fields = r.body.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['body.name', 'body.role']));
  });

  it('creates a key that works at once, lists it without its secret, and revokes it idempotently', async () => {
    const created = await api.request('POST', '/api/v1/keys', { body: { name: 'ops bot', role: 'operator' } });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^co_[a-z0-9]{8}_/);
    expect((await api.request('GET', '/api/v1/audit', { key })).status).toBe(200);

    const list = await api.request('GET', '/api/v1/keys');
    const listed = list.body.items.find((k: { id: string }) => k.id === created.body.apiKey.id);
    expect(listed).toMatchObject({ name: 'ops bot', role: 'operator', revokedAt: null });
    expect(JSON.stringify(list.body)).not.toContain(key.slice(12));
    expect(listed.hash).toBeUndefined();

    const path = `/api/v1/keys/${created.body.apiKey.id}/revoke`;
    const first = await api.request('POST', path, { body: { reason: 'rotated' } });
    const second = await api.request('POST', path, { body: { reason: 'rotated' } });
    expect(first.status).toBe(200);
    expect(second.body.revokedAt).toBe(first.body.revokedAt);
    expect((await api.request('GET', '/api/v1/audit', { key })).status).toBe(401);

    const audit = await api.request('GET', `/api/v1/audit?entityType=api_key&entityId=${created.body.apiKey.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['api_key.revoked', 'api_key.created']);
    expect(audit.body.items[0]).toMatchObject({ reason: 'rotated', before: { revokedAt: null } });
  });

  it('paginates the audit trail with a keyset cursor', async () => {
    for (let i = 0; i < 3; i++) await api.request('POST', '/api/v1/keys', { body: { name: `k${i}`, role: 'viewer' } });
    const page1 = await api.request('GET', '/api/v1/audit?action=api_key.created&limit=2');
    expect(page1.body.items).toHaveLength(2);
    const page2 = await api.request('GET', `/api/v1/audit?action=api_key.created&limit=2&cursor=${page1.body.nextCursor}`);
    const ids = [...page1.body.items, ...page2.body.items].map((e: { id: string }) => BigInt(e.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));
  });

  it('never logs a stack trace or a key for bad input', async () => {
    await api.request('POST', '/api/v1/keys', { rawBody: '{{{' });
    await api.request('GET', '/api/v1/keys', { key: 'co_zzzzzzzz_secretsecretsecretsecret' });
    const text = api.logs.lines.join('\n');
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toContain('secretsecretsecretsecret');
    expect(text).not.toContain(api.adminKey);
  });
});
