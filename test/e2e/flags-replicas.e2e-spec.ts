import { createTestEnvironment, startTestApi, type TestApi } from '../support/app';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

describe.each([
  ['pub/sub only (periodic check every 10 min)', '600000'],
  ['pub/sub plus a periodic check every 300 ms', '300'],
])('flag changes reach every API replica: %s', (_name, syncMs) => {
  let a: TestApi;
  let b: TestApi;
  let key: string;
  beforeAll(async () => {
    const env = await createTestEnvironment({ FLAGS_SYNC_INTERVAL_MS: syncMs, AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
    a = await startTestApi(env);
    b = await startTestApi(env);
    key = await a.newKey('evaluator');
  });
  afterAll(async () => {
    await b.close({ dropDatabase: false });
    await a.close();
  });

  const evalOn = (api: TestApi, flag: string) =>
    api.request('POST', `/ofrep/v1/evaluate/flags/${flag}`, { key, body: { context: { targetingKey: '99' } } }).then((r) => r.body);

  it('a kill on one replica is seen by the other (pub/sub)', async () => {
    await a.request('POST', '/api/v1/flags', { body: { key: 'rep.kill', rolloutPercent: 100 } });
    expect(await waitFor('the new flag on replica b', () => evalOn(b, 'rep.kill'), (r) => r.value === true, 5000, 10)).toMatchObject({ value: true, reason: 'STATIC' });
    const killed = await a.request('POST', '/api/v1/flags/rep.kill/kill', { body: { reason: 'incident on replica a' }, headers: { 'if-match': '"1"' } });
    expect(killed.status).toBe(200);
    const seen = await waitFor('the kill on replica b', () => evalOn(b, 'rep.kill'), (r) => r.reason === 'DISABLED', 2000, 10);
    expect(seen).toMatchObject({ value: false, variant: 'off', reason: 'DISABLED', metadata: { flagVersion: 2 } });
  });

  // only meaningful when the periodic check runs often enough to be observed
  const periodic = syncMs === '300' ? it : () => undefined;
  periodic('a change that bypassed pub/sub is healed by the periodic version check', async () => {
    await b.request('POST', '/api/v1/flags', { body: { key: 'rep.heal', rolloutPercent: 100 } });
    await waitFor('the new flag on replica a', () => evalOn(a, 'rep.heal'), (r) => r.value === true, 5000, 10);
    const db = await TestDb.connect(a.env);
    try {
      await db.query(`UPDATE flags SET killed = true, version = version + 1 WHERE key = 'rep.heal'`);
    } finally {
      await db.close();
    }
    for (const api of [a, b]) {
      expect(await waitFor('the kill on every replica', () => evalOn(api, 'rep.heal'), (r) => r.reason === 'DISABLED', 3000, 10)).toMatchObject({ value: false, reason: 'DISABLED' });
    }
  });

  it('an archived flag disappears from every replica', async () => {
    await a.request('POST', '/api/v1/flags', { body: { key: 'rep.archive', rolloutPercent: 100 } });
    await waitFor('the new flag on replica b', () => evalOn(b, 'rep.archive'), (r) => r.value === true, 5000, 10);
    await a.request('POST', '/api/v1/flags/rep.archive/archive', { body: { reason: 'retired' }, headers: { 'if-match': '"1"' } });
    expect(await waitFor('the archived flag gone from replica b', () => evalOn(b, 'rep.archive'), (r) => r.errorCode === 'FLAG_NOT_FOUND', 2000, 10)).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
  });
});
