import { startTestApi, type TestApi } from '../support/app';
import { TestDb } from '../support/test-db';

describe('users seed: a synthetic population generated in SQL', () => {
  let api: TestApi;
  let db: TestDb;
  let operator: string;

  beforeAll(async () => {
    api = await startTestApi();
    operator = await api.newKey('operator');
    db = await TestDb.connect(api.env);
  });
  afterAll(async () => {
    await db.close();
    await api.close();
  });

  const seed = (body: unknown, key = operator) => api.request('POST', '/api/v1/users/seed', { body, key });

  it('creates count users with realistic attributes and about 3% that cannot do E2EE', async () => {
    const r = await seed({ count: 40_000, seed: 7 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ added: 40_000, fromId: '1', toId: '40000', seed: 7 });
    const rows = await db.query(`SELECT count(*)::int AS n, (count(*) FILTER (WHERE NOT e2ee_capable))::int AS incapable,
      count(DISTINCT country)::int AS countries, count(DISTINCT app_version)::int AS versions,
      array_agg(DISTINCT platform ORDER BY platform) AS platforms FROM users`);
    expect(rows[0].n).toBe(40_000);
    expect(r.body.incapable).toBe(rows[0].incapable);
    expect(rows[0].incapable / 40_000).toBeGreaterThan(0.025);
    expect(rows[0].incapable / 40_000).toBeLessThan(0.035);
    expect(rows[0].platforms).toEqual(['android', 'desktop', 'ios', 'web']);
    expect(rows[0].countries).toBeGreaterThan(20);
    expect(rows[0].versions).toBeGreaterThan(10);
    const shares = await db.query(`SELECT platform, count(*)::float8 / 40000 AS share FROM users GROUP BY platform`);
    const share = Object.fromEntries(shares.map((s) => [s.platform, s.share]));
    expect(share.android).toBeGreaterThan(share.ios);
    expect(share.ios).toBeGreaterThan(share.web);
    // app versions belong to their platform
    const mismatched = await db.query(`SELECT count(*)::int AS n FROM users WHERE platform IN ('ios','android') AND app_version NOT LIKE '5.%' AND app_version NOT LIKE '6.%'`);
    expect(mismatched[0].n).toBe(0);
  });

  it('re-running extends the population after the highest id, and is audited', async () => {
    const r = await seed({ count: 5_000 });
    expect(r.body).toMatchObject({ added: 5_000, fromId: '40001', toId: '45000', seed: 1 });
    const rows = await db.query('SELECT count(*)::int AS n, max(id)::text AS max FROM users');
    expect(rows[0]).toEqual({ n: 45_000, max: '45000' });
    const audit = await api.request('GET', '/api/v1/audit?action=users.seeded');
    expect(audit.body.items.map((e: { entityId: string }) => e.entityId)).toEqual(['40001-45000', '1-40000']);
    expect(audit.body.items[0]).toMatchObject({ actor: { role: 'operator' }, after: { added: 5_000, fromId: '40001' } });
  });

  it('continues after imported ids and gives the same attributes for the same seed and id', async () => {
    const imported = await api.request('POST', '/api/v1/users/import', {
      rawBody: JSON.stringify({ id: '900000000000', country: 'DE', platform: 'web', appVersion: '2.26.4', e2eeCapable: true }),
      key: operator,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(imported.body.inserted).toBe(1);
    const r = await seed({ count: 10, seed: 7 });
    expect(r.body).toMatchObject({ fromId: '900000000001', toId: '900000000010' });
    // ids 1..10 were seeded with seed 7 above: empty the table and seed them again
    const first = await db.query(`SELECT country, platform, app_version, e2ee_capable FROM users WHERE id BETWEEN 1 AND 10 ORDER BY id`);
    await db.query(`DELETE FROM users`);
    const again = await seed({ count: 10, seed: 7 });
    expect(again.body).toMatchObject({ fromId: '1', toId: '10' });
    const second = await db.query(`SELECT country, platform, app_version, e2ee_capable FROM users WHERE id BETWEEN 1 AND 10 ORDER BY id`);
    expect(second).toEqual(first);
  });

  it('validates the body and needs an operator', async () => {
    const bad = await seed({ count: 0, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['body.count', 'body']));
    const viewer = await api.newKey('viewer');
    expect((await seed({ count: 1 }, viewer)).status).toBe(403);
  });
});
