import type { Queue } from 'bullmq';
import { testQueue } from '../support/test-env';
import { startTestApi, type TestApi } from '../support/app';

describe('users: read and change one user; eligibility changes enqueue users-reassess', () => {
  let api: TestApi;
  let control: Queue;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    api = await startTestApi();
    operator = await api.newKey('operator');
    viewer = await api.newKey('viewer');
    const { redis } = api.env.config;
    control = testQueue('control', redis.url, redis.prefix);
    const rows = [
      { id: '5001', country: 'DE', platform: 'android', appVersion: '5.8.1', e2eeCapable: false, attributes: { devices: 2 } },
      { id: '5002', country: 'BR', platform: 'ios', appVersion: '6.4.0', e2eeCapable: true },
    ];
    const r = await api.request('POST', '/api/v1/users/import', {
      rawBody: rows.map((x) => JSON.stringify(x)).join('\n'),
      key: operator,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(r.body.inserted).toBe(2);
  });
  afterAll(async () => {
    await control.close();
    await api.close();
  });

  const patch = (id: string, body: unknown, opts: { key?: string; ifMatch?: string } = {}) =>
    api.request('PATCH', `/api/v1/users/${id}`, {
      body,
      key: opts.key ?? operator,
      headers: opts.ifMatch ? { 'if-match': opts.ifMatch } : {},
    });
  const auditOf = async (id: string) =>
    (await api.request('GET', `/api/v1/audit?entityType=user&entityId=${id}`)).body.items as Array<Record<string, any>>;

  it('reads a user with a viewer key, with an ETag; 404 for an unknown id, 400 for a malformed one', async () => {
    const r = await api.request('GET', '/api/v1/users/5001', { key: viewer });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: '5001', country: 'DE', platform: 'android', appVersion: '5.8.1', e2eeCapable: false, attributes: { devices: 2 } });
    expect(r.headers.get('etag')).toBe(`"${Date.parse(r.body.updatedAt)}"`);
    expect((await api.request('GET', '/api/v1/users/999', { key: viewer })).body).toMatchObject({ code: 'user.not_found' });
    const bad = await api.request('GET', '/api/v1/users/abc', { key: viewer });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('params.id');
  });

  it('names each invalid field and needs an operator', async () => {
    const r = await patch('5001', { country: 'Deutschland', platform: 'symbian', favourite: 1 });
    expect(r.status).toBe(400);
    expect(r.body.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['body.country', 'body.platform', 'body']));
    expect((await patch('5001', {})).status).toBe(400);
    expect((await patch('5001', { appVersion: '6.4.1' }, { key: viewer })).status).toBe(403);
    expect((await patch('999', { appVersion: '6.4.1' })).status).toBe(404);
  });

  it('updates attributes with an audit row of before and after, and enqueues users-reassess on the control queue', async () => {
    const r = await patch('5001', { appVersion: '6.4.1', e2eeCapable: true, reason: 'device upgraded' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ appVersion: '6.4.1', e2eeCapable: true, country: 'DE' });
    const [event] = await auditOf('5001');
    expect(event).toMatchObject({
      action: 'user.updated',
      actor: { role: 'operator' },
      before: { appVersion: '5.8.1', e2eeCapable: false },
      after: { appVersion: '6.4.1', e2eeCapable: true },
      reason: 'device upgraded',
    });
    const jobId = `users-reassess-5001-${Date.parse(r.body.updatedAt)}`;
    const job = await control.getJob(jobId);
    expect(job).toBeDefined();
    expect(job!.name).toBe('users-reassess');
    expect(job!.data).toEqual({ userIds: ['5001'] });
  });

  it('does not audit or re-enqueue a patch that changes nothing; attributes alone enqueue nothing', async () => {
    const before = await auditOf('5001');
    const current = await api.request('GET', '/api/v1/users/5001');
    const same = await patch('5001', { appVersion: '6.4.1' });
    expect(same.body.updatedAt).toBe(current.body.updatedAt);
    expect(await auditOf('5001')).toHaveLength(before.length);
    const reassess = async () => (await control.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.name === 'users-reassess');
    expect(await reassess()).toHaveLength(1);

    const attrs = await patch('5002', { attributes: { devices: 3 } });
    expect(attrs.body.attributes).toEqual({ devices: 3 });
    expect(await auditOf('5002')).toHaveLength(1);
    expect(await reassess()).toHaveLength(1);
  });

  it('honours If-Match: a stale version is a 409 and changes nothing', async () => {
    const read = await api.request('GET', '/api/v1/users/5002');
    const etag = read.headers.get('etag')!;
    const ok = await patch('5002', { country: 'PT' }, { ifMatch: etag });
    expect(ok.status).toBe(200);
    const stale = await patch('5002', { country: 'ES' }, { ifMatch: etag });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('user.version_conflict');
    expect((await api.request('GET', '/api/v1/users/5002')).body.country).toBe('PT');
  });
});
