import { createRedis } from '../../src/core/redis/redis.service';
import { createTestEnvironment, startTestApi, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';

const FAILED_LIMIT = 4;
const OPT_IN_LIMIT = 3;

/** Two API replicas on one database and one Redis prefix: every limit is counted once for both. */
describe('rate limits shared by two API replicas', () => {
  let env: TestEnvironment;
  let a: TestApi;
  let b: TestApi;
  let db: TestDb;

  beforeAll(async () => {
    env = await createTestEnvironment({
      AUTH_FAILED_LIMIT_PER_MINUTE: String(FAILED_LIMIT),
      MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE: String(OPT_IN_LIMIT),
    });
    a = await startTestApi(env);
    b = await startTestApi(env);
    db = await TestDb.connect(env);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await b?.close({ dropDatabase: false });
    await a?.close();
  });

  it('lets exactly the limit of failed authentications through when both replicas are hit at once', async () => {
    const wrong = (i: number) => `co_zzzzzzzz_${'wrongsecret'.repeat(3)}${i}`;
    const results = await Promise.all(
      Array.from({ length: 5 * FAILED_LIMIT }, (_, i) => (i % 2 ? a : b).request('GET', '/api/v1/flags', { key: wrong(i) })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(FAILED_LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4 * FAILED_LIMIT);
    const limited = results.find((r) => r.status === 429)!;
    expect(limited.body).toMatchObject({ code: 'auth.rate_limited', details: { retryAfterSeconds: expect.any(Number) } });

    // Retry-After is the time left in the shared window, as Redis holds it
    const redis = createRedis(env.config.redis.url);
    try {
      const pttl = await redis.pttl(`${env.config.redis.prefix}:ratelimit:authfail:127.0.0.1`);
      const retryAfter = Number((await a.request('GET', '/api/v1/audit', { key: null })).headers.get('retry-after'));
      expect(pttl).toBeGreaterThan(0);
      expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(pttl / 1000));
      expect(retryAfter).toBeLessThanOrEqual(60);
    } finally {
      await redis.quit();
    }
    // valid keys still work on both replicas
    expect((await a.request('GET', '/api/v1/flags')).status).toBe(200);
    expect((await b.request('GET', '/api/v1/flags')).status).toBe(200);
  });

  it("counts one user's opt-ins across replicas", async () => {
    await db.seedUsers(20);
    await createFlag(a, 'rl-replicas', 0);
    const c = await createCampaign(a, { key: 'rl-replicas', name: 'opt-in limit on two replicas', flag: 'rl-replicas' });
    expect((await act(a, c.id, 'start')).status).toBe(200);
    const optIn = (api: TestApi) => api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { body: { userId: '5' } });
    const codes = [];
    for (let i = 0; i < OPT_IN_LIMIT + 1; i++) codes.push((await optIn(i % 2 ? b : a)).status);
    expect(codes).toEqual([...Array<number>(OPT_IN_LIMIT).fill(200), 429]);
    const refused = await optIn(a);
    expect(refused.body).toMatchObject({ code: 'opt_in.rate_limited' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});
