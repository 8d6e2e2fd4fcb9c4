import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { deleteRedisMatching } from '../../src/core/redis/delete-prefix';
import { bucketOf } from '../../src/flags/bucketing';
import { startTestApi, type TestApi } from '../support/app';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

describe('OFREP evaluation driven by the OpenFeature server SDK', () => {
  let api: TestApi;
  let client: Client;
  let evaluatorKey: string;
  const domain = 'cutover-ofrep-e2e';

  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
    evaluatorKey = await api.newKey('evaluator');
    await OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl: api.url, headers: [['Authorization', `Bearer ${evaluatorKey}`]] }));
    client = OpenFeature.getClient(domain);
  });
  afterAll(async () => {
    await OpenFeature.close();
    await api.close();
  });

  const createFlag = async (body: Record<string, unknown>) => {
    const r = await api.request('POST', '/api/v1/flags', { body });
    expect(r.status).toBe(201);
    return r.body;
  };
  /** The admin write returns once committed; this replica applies it from pub/sub a moment later. */
  const seen = (key: string, version: number) =>
    waitFor(`${key} v${version} on this replica`, () => api.request('POST', `/ofrep/v1/evaluate/flags/${key}`, { key: evaluatorKey, body: { context: { targetingKey: '1' } } }), (r) => r.body?.metadata?.flagVersion === version, 20_000, 20);

  it('evaluates a boolean flag on for everyone as STATIC', async () => {
    await createFlag({ key: 'sdk.static', rolloutPercent: 100 });
    await seen('sdk.static', 1);
    const d = await client.getBooleanDetails('sdk.static', false, { targetingKey: '42' });
    expect(d).toMatchObject({ value: true, variant: 'on', reason: 'STATIC' });
    expect(d.errorCode).toBeUndefined();
  });

  it('applies a targeting rule on context attributes (in, semver) before the rollout', async () => {
    await createFlag({
      key: 'sdk.rules',
      rules: [
        { name: 'de-new-android', conditions: [{ attribute: 'country', operator: 'in', values: ['DE', 'AT'] }, { attribute: 'appVersion', operator: 'semver_gte', value: '5.2.0' }], variant: 'on' },
        { conditions: [{ attribute: 'beta', operator: 'equals', value: true }], variant: 'on' },
      ],
    });
    await seen('sdk.rules', 1);
    expect(await client.getBooleanDetails('sdk.rules', false, { targetingKey: '1', country: 'DE', appVersion: '5.10.1' })).toMatchObject({ value: true, reason: 'TARGETING_MATCH', variant: 'on' });
    expect(await client.getBooleanDetails('sdk.rules', true, { targetingKey: '1', country: 'DE', appVersion: '5.1.9' })).toMatchObject({ value: false, reason: 'DEFAULT', variant: 'off' });
    expect(await client.getBooleanDetails('sdk.rules', false, { targetingKey: '1', country: 'FR', beta: true })).toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
  });

  it('splits a 30% rollout exactly as bucketOf says, and raising it only adds users', async () => {
    const flag = await createFlag({ key: 'sdk.rollout', rolloutPercent: 30 });
    await seen('sdk.rollout', 1);
    const users = Array.from({ length: 120 }, (_, i) => String(9_000_000_000 + i * 7919));
    const at30 = await Promise.all(users.map((u) => client.getBooleanDetails('sdk.rollout', false, { targetingKey: u })));
    expect(at30.map((d) => d.value)).toEqual(users.map((u) => bucketOf(flag.salt, u) < 300_000));
    expect(new Set(at30.map((d) => d.reason))).toEqual(new Set(['SPLIT']));
    expect(at30.filter((d) => d.value).length).toBeGreaterThan(15);

    await api.request('POST', '/api/v1/flags/sdk.rollout/rollout', { body: { rolloutPercent: 60 }, headers: { 'if-match': '"1"' } });
    await seen('sdk.rollout', 2);
    const at60 = await Promise.all(users.map((u) => client.getBooleanValue('sdk.rollout', false, { targetingKey: u })));
    at30.forEach((d, i) => d.value && expect(at60[i]).toBe(true));
    expect(at60).toEqual(users.map((u) => bucketOf(flag.salt, u) < 600_000));
  });

  it('kill switch: the flag evaluates to its off variant with reason DISABLED, revive restores it', async () => {
    await createFlag({ key: 'sdk.kill', rolloutPercent: 100 });
    await seen('sdk.kill', 1);
    expect(await client.getBooleanValue('sdk.kill', false, { targetingKey: '7' })).toBe(true);
    await api.request('POST', '/api/v1/flags/sdk.kill/kill', { body: { reason: 'incident' }, headers: { 'if-match': '"1"' } });
    await seen('sdk.kill', 2);
    expect(await client.getBooleanDetails('sdk.kill', true, { targetingKey: '7' })).toMatchObject({ value: false, variant: 'off', reason: 'DISABLED' });
    await api.request('POST', '/api/v1/flags/sdk.kill/revive', { body: { reason: 'fixed' }, headers: { 'if-match': '"2"' } });
    await seen('sdk.kill', 3);
    expect(await client.getBooleanValue('sdk.kill', false, { targetingKey: '7' })).toBe(true);
  });

  it('reports an unknown flag as FLAG_NOT_FOUND and the SDK falls back to the default', async () => {
    const d = await client.getBooleanDetails('sdk.nope', true, { targetingKey: '1' });
    expect(d).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND', reason: 'ERROR' });
  });

  it('evaluates string flags', async () => {
    await createFlag({ key: 'sdk.string', kind: 'string', variants: { legacy: 'legacy', e2ee: 'e2ee' }, offVariant: 'legacy', rolloutVariant: 'e2ee', rolloutPercent: 100 });
    await seen('sdk.string', 1);
    expect(await client.getStringDetails('sdk.string', 'x', { targetingKey: '1' })).toMatchObject({ value: 'e2ee', variant: 'e2ee' });
  });
});

describe('OFREP over raw HTTP: error shapes, bulk, ETag, auth, events', () => {
  let api: TestApi;
  let key: string;
  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000', FLAGS_RATCHET_HEAL_INTERVAL_MS: '200' });
    key = await api.newKey('evaluator');
    await api.request('POST', '/api/v1/flags', { body: { key: 'raw.half', rolloutPercent: 50 } });
    await api.request('POST', '/api/v1/flags', { body: { key: 'raw.all', rolloutPercent: 100 } });
    await waitFor('both flags in the bulk answer', () => api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: { targetingKey: '1' } } }), (r) => r.body?.flags?.length === 2, 20_000, 20);
  });
  afterAll(() => api.close());

  const evalOne = (flag: string, body: unknown, k: string | null = key) => api.request('POST', `/ofrep/v1/evaluate/flags/${flag}`, { key: k, body });

  it('answers OFREP error codes with their HTTP statuses', async () => {
    expect(await evalOne('raw.half', { context: {} })).toMatchObject({ status: 400, body: { key: 'raw.half', errorCode: 'TARGETING_KEY_MISSING' } });
    const invalid = await evalOne('raw.half', { context: { targetingKey: 5 } });
    expect(invalid).toMatchObject({ status: 400, body: { key: 'raw.half', errorCode: 'INVALID_CONTEXT' } });
    expect(invalid.body.errorDetails).toContain('body.context.targetingKey');
    expect((await evalOne('raw.half', { context: 'x' })).body.errorCode).toBe('INVALID_CONTEXT');
    const parse = await api.request('POST', '/ofrep/v1/evaluate/flags/raw.half', { key, rawBody: '{"context":' });
    expect(parse).toMatchObject({ status: 400, body: { key: 'raw.half', errorCode: 'PARSE_ERROR' } });
    expect(await evalOne('no.such', {})).toMatchObject({ status: 404, body: { key: 'no.such', errorCode: 'FLAG_NOT_FOUND' } });
    const ok = await evalOne('raw.all', {});
    expect(ok.body).toMatchObject({ key: 'raw.all', value: true, reason: 'STATIC', variant: 'on' });
    // the evaluation routes set helmet's headers themselves (precomputed), on answers and errors
    for (const r of [ok, invalid, parse]) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    }
  });

  it('counts evaluations per flag and reason in cutover_evaluations_total', async () => {
    for (let i = 0; i < 3; i++) await evalOne('raw.all', {});
    await evalOne('raw.half', {});
    const metric = (text: string, flag: string, reason: string) => {
      const m = new RegExp(`^cutover_evaluations_total\\{flag="${flag.replace('.', '\\.')}",reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    const text = await waitFor('the evaluations counted', () => api.request('GET', '/metrics', { key: null }).then((r) => String(r.body)), (t) => metric(t, 'raw.all', 'STATIC') >= 3, 20_000, 20);
    expect(metric(text, 'raw.all', 'STATIC')).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'raw.half', 'ERROR')).toBeGreaterThanOrEqual(1);
    // and the time each request took, by endpoint
    expect(Number(/^cutover_evaluation_duration_seconds_count\{endpoint="single"\} (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(4);
  });

  it('needs an API key of any role (evaluator or higher)', async () => {
    expect((await evalOne('raw.all', {}, null)).status).toBe(401);
    expect((await evalOne('raw.all', {}, 'co_abcdefgh_ABCDEFGHIJKLMNOPQRSTUVWX')).body).toMatchObject({ code: 'auth.unauthorized' });
    expect((await evalOne('raw.all', {}, await api.newKey('viewer'))).status).toBe(200);
  });

  it('stops accepting a revoked key within about a second', async () => {
    const created = await api.request('POST', '/api/v1/keys', { body: { name: 'short-lived evaluator', role: 'evaluator' } });
    expect((await evalOne('raw.all', {}, created.body.key)).status).toBe(200);
    await api.request('POST', `/api/v1/keys/${created.body.apiKey.id}/revoke`, { body: { reason: 'rotated' } });
    const started = Date.now();
    const refused = await waitFor('the revoked key refused', () => evalOne('raw.all', {}, created.body.key), (r) => r.status === 401, 3000, 20);
    expect(refused.status).toBe(401);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('bulk evaluates every flag with an ETag and answers If-None-Match with 304', async () => {
    const first = await api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: { targetingKey: '12345' } } });
    expect(first.status).toBe(200);
    expect(first.body.flags.map((f: { key: string }) => f.key).sort()).toEqual(['raw.all', 'raw.half']);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const again = await api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: { targetingKey: '12345' } }, headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const listed = await api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: { targetingKey: '12345' } }, headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(listed.status).toBe(304);
    const otherContext = await api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: {} }, headers: { 'if-none-match': etag } });
    expect(otherContext.status).toBe(200);
    const noKey = await api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: {} });
    expect(noKey.body.flags).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'raw.half', errorCode: 'TARGETING_KEY_MISSING' }), expect.objectContaining({ key: 'raw.all', value: true })]));
    expect((await api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: [] } })).body).toMatchObject({ errorCode: 'INVALID_CONTEXT' });

    await api.request('POST', '/api/v1/flags/raw.all/kill', { body: { reason: 'test' }, headers: { 'if-match': '"1"' } });
    const changed = await waitFor(
      'a new bulk answer after the kill',
      () => api.request('POST', '/ofrep/v1/evaluate/flags', { key, body: { context: { targetingKey: '12345' } }, headers: { 'if-none-match': etag } }),
      (r) => r.status === 200,
      20_000,
      20,
    );
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    await api.request('POST', '/api/v1/flags/raw.all/revive', { body: { reason: 'test' }, headers: { 'if-match': '"2"' } });
  });

  it('streams refetchEvaluation messages naming the changed flags so that clients re-fetch', async () => {
    const ac = new AbortController();
    const res = await fetch(`${api.url}/ofrep/v1/events`, { headers: { authorization: `Bearer ${key}` }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = (async () => {
      // An earlier test's revive of raw.all may still be on its way through Redis: read until
      // the event that names raw.half (events may carry several keys).
      while (!/event: message\ndata: \{"type":"refetchEvaluation".*"keys":\[[^\]]*"raw\.half"/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    })();
    const current = await api.request('GET', '/api/v1/flags/raw.half');
    await api.request('POST', '/api/v1/flags/raw.half/rollout', { body: { rolloutPercent: 51 }, headers: { 'if-match': current.headers.get('etag')! } });
    await Promise.race([read, new Promise((r) => setTimeout(r, 5000))]);
    ac.abort();
    expect(text).toContain(': ready');
    expect(text).toMatch(/id: \S+\nevent: message\ndata: \{"type":"refetchEvaluation","etag":"\S+","lastModified":\d+,"keys":\[[^\]]*"raw\.half"[^\]]*\]\}/);
  });

  it('ratchet: an enabled user stays on after a kill and after the rollout is lowered, and stays on (PostgreSQL answers) while Redis loses it and it is rebuilt', async () => {
    const flag = (await api.request('POST', '/api/v1/flags', { body: { key: 'raw.ratchet', rolloutPercent: 100 } })).body;
    const db = await TestDb.connect(api.env);
    const users = ['5000000001', '5000000002', '5000000003'];
    try {
      const rows = await db.query(
        `INSERT INTO campaigns (key, name, flag_id, status, pacing) VALUES ('c-ratchet', 'ratchet', $1, 'running', '{}') RETURNING id`,
        [flag.id],
      );
      for (const [i, u] of users.entries()) {
        await db.query(`INSERT INTO user_migrations (campaign_id, user_id, bucket, state) VALUES ($1, $2, $3, $4)`, [rows[0].id, u, bucketOf(flag.salt, u), i < 2 ? 'enabled' : 'eligible']);
      }
    } finally {
      await db.close();
    }
    const { RatchetService } = await import('../../src/flags/ratchet.service');
    const ratchet = api.app.get(RatchetService);
    await ratchet.recordEnabled(BigInt(flag.id), users.slice(0, 2).map((u) => ({ userId: BigInt(u), bucket: bucketOf(flag.salt, u) })));
    await api.request('POST', '/api/v1/flags/raw.ratchet/kill', { body: { reason: 'incident' }, headers: { 'if-match': '"1"' } });
    const answer = (u: string) => evalOne('raw.ratchet', { context: { targetingKey: u } }).then((r) => r.body);
    await waitFor('the kill on this replica', () => answer(users[2]), (b) => b.reason === 'DISABLED', 20_000, 20);
    expect(await answer(users[0])).toMatchObject({ value: true, reason: 'TARGETING_MATCH', metadata: { ratchet: 'enabled' } });
    expect(await answer(users[1])).toMatchObject({ value: true });
    expect(await answer(users[2])).toMatchObject({ value: false, reason: 'DISABLED' });

    const redisService = api.app.get((await import('../../src/core/redis/redis.service')).RedisService);
    const redis = redisService.client;
    // let the first rebuild of this new flag finish, so that what follows is a loss after a sync
    await waitFor('the first ratchet sync', () => ratchet.isSynced(BigInt(flag.id)), (ok) => ok, 20_000, 20);
    await waitFor('the rebuild lock released', () => redis.exists(redisService.groupKey(['ratchet', flag.id], 'rebuild-lock')), (n) => n === 0, 20_000, 20);
    // every key of the flag's ratchet, on a single Redis (`p:ratchet:F:…`) or a cluster (`p:{ratchet:F…}…`)
    const lost = await deleteRedisMatching(api.env.config.redis.url, `${api.env.config.redis.prefix}:*ratchet:${flag.id}[:}]*`);
    expect(lost).toBeGreaterThan(0);
    // never off while the sets are gone: PostgreSQL answers until the rebuild marks them complete
    expect(await ratchet.isEnabled(BigInt(flag.id), users[0])).toBe(true);
    expect(await answer(users[0])).toMatchObject({ value: true, metadata: { ratchet: 'enabled' } });
    expect(await ratchet.isEnabled(BigInt(flag.id), users[2])).toBe(false);
    await waitFor('the ratchet rebuilt', () => ratchet.isSynced(BigInt(flag.id)), (ok) => ok, 20_000, 20);
    expect(await ratchet.isEnabled(BigInt(flag.id), users[0])).toBe(true);
    expect(await ratchet.isEnabled(BigInt(flag.id), users[2])).toBe(false);
    expect(await answer(users[0])).toMatchObject({ value: true, metadata: { ratchet: 'enabled' } });

    expect((await api.request('POST', '/api/v1/flags/raw.ratchet/revive', { body: { reason: 'recovered' }, headers: { 'if-match': '"2"' } })).body).toMatchObject({ version: 3 });
    expect((await api.request('POST', '/api/v1/flags/raw.ratchet/rollout', { body: { rolloutPpm: 0 }, headers: { 'if-match': '"3"' } })).body).toMatchObject({ version: 4 });
    await waitFor('the revive on this replica', () => answer(users[2]), (b) => b.reason === 'STATIC', 20_000, 20);
    expect(await answer(users[1])).toMatchObject({ value: true, metadata: { ratchet: 'enabled' } });
    expect(await answer(users[2])).toMatchObject({ value: false });

    const salt = await api.request('PATCH', '/api/v1/flags/raw.ratchet', { body: { salt: 'new-salt' }, headers: { 'if-match': '"4"' } });
    expect(salt).toMatchObject({ status: 409, body: { code: 'flag.salt_frozen' } });
  });
});
