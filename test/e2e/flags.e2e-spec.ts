import { startTestApi, type TestApi } from '../support/app';
import { waitFor } from './migration.helpers';

describe('flags admin API: CRUD, validation, ETag/If-Match, kill switch, audit', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  const create = (body: unknown) => api.request('POST', '/api/v1/flags', { body });

  it('creates a boolean flag with defaults, reads it with an ETag, and audits it', async () => {
    const r = await create({ key: 'crud.basic', description: 'basic', rolloutPercent: 12.3456 });
    expect(r.status).toBe(201);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.body).toMatchObject({
      key: 'crud.basic',
      kind: 'boolean',
      variants: { on: true, off: false },
      offVariant: 'off',
      rolloutVariant: 'on',
      rolloutPpm: 123456,
      rolloutPercent: 12.3456,
      killed: false,
      version: 1,
      hashVersion: 1,
    });
    expect(r.body.salt).toMatch(/^[0-9a-f]{16}$/);
    const got = await api.request('GET', '/api/v1/flags/crud.basic');
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"1"');
    const audit = await api.request('GET', '/api/v1/audit?entityType=flag&entityId=crud.basic');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['flag.created']);
  });

  it('refuses a duplicate key with 409 and bad input with 400 naming the field', async () => {
    await create({ key: 'crud.dup' });
    expect((await create({ key: 'crud.dup' })).body).toMatchObject({ code: 'flag.key_taken' });
    const bad = await create({ key: 'Bad Key', rolloutPpm: 2_000_000, rules: [{ conditions: [{ attribute: 'appVersion', operator: 'semver_gte', value: 'x' }], variant: 'on' }] });
    expect(bad.status).toBe(400);
    const fields = bad.body.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['body.key', 'body.rolloutPpm', 'body.rules.0.conditions.0.value']));
    const unknownVariant = await create({ key: 'crud.badvariant', rules: [{ conditions: [{ attribute: 'country', operator: 'equals', value: 'DE' }], variant: 'maybe' }] });
    expect(unknownVariant.status).toBe(400);
    expect(unknownVariant.body.details).toEqual([expect.objectContaining({ field: 'body.rules.0.variant' })]);
    const fiveDecimals = await create({ key: 'crud.decimals', rolloutPercent: 1.23456 });
    expect(fiveDecimals.body.details).toEqual([expect.objectContaining({ field: 'body.rolloutPercent', message: 'at most 4 decimals' })]);
    const both = await create({ key: 'crud.both', rolloutPpm: 1, rolloutPercent: 1 });
    expect(both.body.details[0].field).toBe('body.rolloutPercent');
    const stringNoVariants = await create({ key: 'crud.str', kind: 'string' });
    expect(stringNoVariants.status).toBe(400);
    expect(stringNoVariants.body.details.map((d: { field: string }) => d.field)).toEqual(['body.variants', 'body.offVariant', 'body.rolloutVariant']);
    expect((await api.request('GET', '/api/v1/flags/nope')).status).toBe(404);
  });

  it('needs If-Match on writes: missing is 428, stale is 409, current succeeds and bumps the version', async () => {
    await create({ key: 'crud.etag' });
    const missing = await api.request('PATCH', '/api/v1/flags/crud.etag', { body: { description: 'x' } });
    expect(missing.status).toBe(428);
    const ok = await api.request('PATCH', '/api/v1/flags/crud.etag', { body: { description: 'x', reason: 'docs' }, headers: { 'if-match': '"1"' } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"2"');
    const stale = await api.request('PATCH', '/api/v1/flags/crud.etag', { body: { description: 'y' }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: 'flag.version_conflict', details: { expectedVersion: 1, currentVersion: 2 } });
    const audit = await api.request('GET', '/api/v1/audit?entityType=flag&entityId=crud.etag&action=flag.updated');
    expect(audit.body.items[0]).toMatchObject({ reason: 'docs', before: { description: '' }, after: { description: 'x', version: 2 } });
  });

  it('changes the salt while no campaign uses the flag (frozen only for running or paused campaigns)', async () => {
    await create({ key: 'crud.salt' });
    const r = await api.request('PATCH', '/api/v1/flags/crud.salt', { body: { salt: 'fresh-salt', reason: 're-randomise' }, headers: { 'if-match': '"1"' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ salt: 'fresh-salt', version: 2 });
  });

  it('sets the rollout by percent or ppm, audited as flag.rollout_changed, and repeats safely', async () => {
    await create({ key: 'crud.rollout' });
    const r = await api.request('POST', '/api/v1/flags/crud.rollout/rollout', { body: { rolloutPercent: 5, reason: 'step 1' }, headers: { 'if-match': '"1"' } });
    expect(r.body).toMatchObject({ rolloutPpm: 50_000, version: 2 });
    const again = await api.request('POST', '/api/v1/flags/crud.rollout/rollout', { body: { rolloutPpm: 50_000 }, headers: { 'if-match': '"1"' } });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(2);
    const audit = await api.request('GET', '/api/v1/audit?entityType=flag&entityId=crud.rollout&action=flag.rollout_changed');
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({ reason: 'step 1', before: { rolloutPpm: 0 }, after: { rolloutPpm: 50_000 } });
  });

  it('kills and revives with a required reason; a repeated kill is a no-op', async () => {
    await create({ key: 'crud.kill', rolloutPpm: 1_000_000 });
    const noReason = await api.request('POST', '/api/v1/flags/crud.kill/kill', { body: {}, headers: { 'if-match': '"1"' } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.details[0].field).toBe('body.reason');
    const killed = await api.request('POST', '/api/v1/flags/crud.kill/kill', { body: { reason: 'incident 42' }, headers: { 'if-match': '"1"' } });
    expect(killed.body).toMatchObject({ killed: true, killReason: 'incident 42', version: 2 });
    const metrics = async () => String((await api.request('GET', '/metrics', { key: null })).body);
    const gauge = 'cutover_flag_killed{flag="crud.kill"}';
    await waitFor('the snapshot to see the kill', metrics, (t) => t.includes(`${gauge} 1`), 10_000);
    const repeat = await api.request('POST', '/api/v1/flags/crud.kill/kill', { body: { reason: 'incident 42' }, headers: { 'if-match': '"1"' } });
    expect(repeat.body.version).toBe(2);
    const revived = await api.request('POST', '/api/v1/flags/crud.kill/revive', { body: { reason: 'fixed' }, headers: { 'if-match': '"2"' } });
    expect(revived.body).toMatchObject({ killed: false, killReason: null, version: 3 });
    const text = await waitFor('the snapshot to see the revival', metrics, (t) => t.includes(`${gauge} 0`), 10_000);
    // kill switch events: the repeated kill changed nothing and is not counted
    expect(text).toContain('cutover_flag_kill_switch_total{flag="crud.kill",action="killed"} 1');
    expect(text).toContain('cutover_flag_kill_switch_total{flag="crud.kill",action="revived"} 1');
    const audit = await api.request('GET', '/api/v1/audit?entityType=flag&entityId=crud.kill');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['flag.revived', 'flag.killed', 'flag.created']);
  });

  it('lists with a keyset cursor and hides archived flags unless asked', async () => {
    for (const k of ['list.a', 'list.b', 'list.c']) await create({ key: k });
    await api.request('POST', '/api/v1/flags/list.b/archive', { body: { reason: 'retired' }, headers: { 'if-match': '"1"' } });
    const keys: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ key: string }>; nextCursor: string | null } } = await api.request('GET', `/api/v1/flags?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      keys.push(...page.body.items.map((f) => f.key));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(keys).toEqual(expect.arrayContaining(['list.a', 'list.c']));
    expect(keys).not.toContain('list.b');
    expect(new Set(keys).size).toBe(keys.length);
    const all = await api.request('GET', '/api/v1/flags?limit=500&includeArchived=true');
    expect(all.body.items.map((f: { key: string }) => f.key)).toContain('list.b');
    const write = await api.request('PATCH', '/api/v1/flags/list.b', { body: { description: 'x' }, headers: { 'if-match': '"2"' } });
    expect(write.body).toMatchObject({ code: 'flag.archived' });
  });

  it('enforces roles: viewers read, operators write, evaluators do neither', async () => {
    const viewer = await api.newKey('viewer');
    const evaluator = await api.newKey('evaluator');
    expect((await api.request('GET', '/api/v1/flags', { key: viewer })).status).toBe(200);
    expect((await api.request('POST', '/api/v1/flags', { key: viewer, body: { key: 'roles.x' } })).status).toBe(403);
    expect((await api.request('GET', '/api/v1/flags', { key: evaluator })).status).toBe(403);
    const operator = await api.newKey('operator');
    expect((await api.request('POST', '/api/v1/flags', { key: operator, body: { key: 'roles.x' } })).status).toBe(201);
  });
});
