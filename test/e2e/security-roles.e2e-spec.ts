import type { TestApi } from '../support/app';
import { IDENTITIES, allowed, concretePath, probe, requirementOf, ROUTE_REQUIREMENTS, startRecordingApi, type Identity } from './security.helpers';

/**
 * The role matrix: every route of the running API (Fastify's own route table, so routes
 * registered outside Nest such as OFREP count too) × {no key, evaluator, alerter, viewer, operator,
 * admin}. Parameters name things that do not exist, so allowed calls change nothing.
 */
describe('security: role matrix over every registered route', () => {
  let api: TestApi;
  let routes: string[];
  const keys: Record<Identity, string | null> = { none: null, evaluator: null, alerter: null, viewer: null, operator: null, admin: null };

  beforeAll(async () => {
    ({ api, routes } = await startRecordingApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '100000' }));
    for (const role of ['evaluator', 'alerter', 'viewer', 'operator'] as const) keys[role] = await api.newKey(role);
    keys.admin = await api.newKey('admin');
  }, 60_000);
  afterAll(() => api?.close());

  it('has a written expectation for every route the app registers, and no stale expectation', () => {
    const missing = routes.filter((r) => requirementOf(r) === undefined);
    expect(missing).toEqual([]);
    const registered = new Set(routes);
    const stale = Object.keys(ROUTE_REQUIREMENTS).filter((r) => !registered.has(r));
    expect(stale).toEqual([]);
    expect(routes.length).toBeGreaterThan(60);
  });

  it('lists every OpenAPI operation among the registered routes', async () => {
    const doc = await api.request('GET', '/docs/openapi.json', { key: null });
    expect(doc.status).toBe(200);
    const registered = new Set(routes);
    const ops: string[] = [];
    for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) ops.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
    expect(ops.length).toBeGreaterThan(40);
    expect(ops.filter((o) => !registered.has(o))).toEqual([]);
  });

  it('lets exactly the roles at or above each route’s requirement through (401 without a key, 403 below it)', async () => {
    const wrong: string[] = [];
    let requests = 0;
    for (const route of routes) {
      const [method, url] = route.split(' ');
      const need = requirementOf(route);
      if (!need) continue;
      const path = concretePath(url);
      for (const who of IDENTITIES) {
        const hasBody = ['POST', 'PUT', 'PATCH'].includes(method);
        const r = await probe(api.url, method, path, { key: keys[who], body: hasBody ? '{}' : undefined, bodyMs: 100 });
        requests++;
        const ok = allowed(need, who);
        const expected = ok ? 'not 401/403, below 500' : who === 'none' ? '401' : '403';
        const fine = ok ? r.status !== 401 && r.status !== 403 && r.status < 500 : r.status === (who === 'none' ? 401 : 403);
        if (!fine) wrong.push(`${route} as ${who}: got ${r.status}, expected ${expected} ${r.text.slice(0, 160)}`);
        if (!ok && method !== 'HEAD' && !/"code":"auth\.(unauthorized|forbidden)"/.test(r.text)) wrong.push(`${route} as ${who}: no auth error code in ${r.text.slice(0, 120)}`);
        if (ok && method !== 'HEAD' && /"code":"http\.not_found"/.test(r.text)) wrong.push(`${route} as ${who}: route not found at ${path}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(requests).toBe(routes.filter((r) => requirementOf(r)).length * IDENTITIES.length);
  }, 120_000);

  it('treats a revoked key, a malformed key and a key with a wrong secret as no key at all', async () => {
    const created = await api.request('POST', '/api/v1/keys', { body: { name: 'to revoke', role: 'admin' } });
    await api.request('POST', `/api/v1/keys/${created.body.apiKey.id}/revoke`, { body: { reason: 'test' } });
    const revoked: string = created.body.key;
    const wrongSecret = keys.admin!.slice(0, 12) + 'A'.repeat(keys.admin!.length - 12);
    for (const key of [revoked, wrongSecret, 'Bearer', 'co_short', `${keys.admin} extra`, keys.admin!.toUpperCase()]) {
      for (const path of ['/api/v1/keys', '/api/v1/flags']) {
        const r = await api.request('GET', path, { key });
        expect({ key: key.slice(0, 14), path, status: r.status }).toEqual({ key: key.slice(0, 14), path, status: 401 });
      }
      const ofrep = await api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: { targetingKey: '1' } } });
      expect(ofrep.status).toBe(401);
    }
    // an Authorization scheme other than Bearer is not accepted either
    const basic = await probe(api.url, 'GET', '/api/v1/flags', { headers: { authorization: `Basic ${Buffer.from(`x:${keys.admin}`).toString('base64')}` } });
    expect(basic.status).toBe(401);
  });
});
