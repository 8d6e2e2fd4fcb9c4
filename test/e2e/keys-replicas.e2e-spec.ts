import { createTestEnvironment, startTestApi, type TestApi } from '../support/app';
import { waitFor } from '../support/wait';

/**
 * A key revoked through one API replica stops working on another at once: the revocation is
 * published on Redis and every replica drops the key from its cache. The cache keeps a key for
 * 5 s, so a refusal within well under that proves the notice, not the cache's expiry.
 */
describe('key revocation reaches every API replica', () => {
  let a: TestApi;
  let b: TestApi;
  beforeAll(async () => {
    const env = await createTestEnvironment({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
    a = await startTestApi(env);
    b = await startTestApi(env);
  });
  afterAll(async () => {
    await b.close({ dropDatabase: false });
    await a.close();
  });

  it('refuses a key on replica b as soon as replica a revoked it, though b had it cached', async () => {
    const created = await a.request('POST', '/api/v1/keys', { body: { name: 'leaked', role: 'viewer' } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect((await b.request('GET', '/api/v1/flags', { key })).status).toBe(200); // now in b's cache
    const revoked = await a.request('POST', `/api/v1/keys/${created.body.apiKey.id}/revoke`, { body: { reason: 'leaked in a ticket' } });
    expect(revoked.status).toBe(200);
    const t0 = Date.now();
    const refused = await waitFor('the revocation on replica b', () => b.request('GET', '/api/v1/flags', { key }), (r) => r.status === 401, 2_500, 5);
    expect(refused.body.code).toBe('auth.unauthorized');
    expect((await a.request('GET', '/api/v1/flags', { key })).status).toBe(401);
    console.log(`key revocation: refused on the other replica ${Date.now() - t0} ms after the revoke answered`);
  });
});
