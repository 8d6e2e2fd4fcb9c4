import Ajv2020 from 'ajv/dist/2020';
import { startTestApi, type HttpResult, type TestApi } from '../support/app';

type Responses = Record<string, { $ref?: string; content?: Record<string, { schema?: object }> }>;
type Doc = { paths: Record<string, Record<string, { responses: Responses }>>; components: { schemas: Record<string, object>; responses: Responses } };

/** The documented schema of the answer a route gave, matched by method, path template and status. */
function documentedSchema(doc: Doc, method: string, url: string, status: number): object {
  const path = url.split('?')[0];
  const template = Object.keys(doc.paths).find((t) => new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`).test(path) && doc.paths[t][method]);
  if (!template) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  let response = doc.paths[template][method].responses[String(status)];
  if (!response) throw new Error(`${method.toUpperCase()} ${template} does not document status ${status}`);
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').pop()!];
  const schema = Object.values(response.content ?? {})[0]?.schema;
  if (!schema) throw new Error(`${method.toUpperCase()} ${template} ${status} has no schema`);
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"doc#/$defs/')) as object;
}

describe('OpenAPI document against the running API', () => {
  let api: TestApi;
  let doc: Doc;
  let ajv: Ajv2020;
  const checked = new Set<string>();

  /** Sends the request and checks the answer, success or error, against the document. */
  async function call<T = any>(method: string, url: string, opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<HttpResult<T>> {
    const res = await api.request<T>(method.toUpperCase(), url, opts);
    const validate = ajv.compile(documentedSchema(doc, method, url, res.status));
    if (!validate(res.body)) throw new Error(`${method.toUpperCase()} ${url} ${res.status} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body).slice(0, 2000)}`);
    checked.add(`${method} ${url.split('?')[0].replace(/\/[0-9]+(?=\/|$)/g, '/{n}')} ${res.status}`);
    return res;
  }
  const ifMatch = (r: HttpResult) => ({ 'if-match': r.headers.get('etag') ?? '' });

  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
    doc = (await api.request<Doc>('GET', '/docs/openapi.json', { key: null })).body;
    ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema({ $id: 'doc', $defs: JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/')) as object });
  });
  afterAll(() => api.close());

  it('answers keys, flags and users as documented', async () => {
    const key = await call('post', '/api/v1/keys', { body: { name: 'docs viewer', role: 'viewer' } });
    await call('get', '/api/v1/keys');
    await call('get', '/api/v1/keys/me');
    await call('post', `/api/v1/keys/${key.body.apiKey.id}/revoke`, { body: { reason: 'docs check' } });
    await call('post', '/api/v1/keys', { body: { name: '', role: 'nobody' } });

    let flag = await call('post', '/api/v1/flags', { body: { key: 'docs-flag', rules: [{ conditions: [{ attribute: 'country', operator: 'in', values: ['DE'] }], variant: 'on' }] } });
    await call('get', '/api/v1/flags');
    flag = await call('get', '/api/v1/flags/docs-flag');
    flag = await call('patch', '/api/v1/flags/docs-flag', { body: { description: 'checked against the document' }, headers: ifMatch(flag) });
    flag = await call('post', '/api/v1/flags/docs-flag/rollout', { body: { rolloutPercent: 50 }, headers: ifMatch(flag) });
    await call('post', '/api/v1/flags/docs-flag/rollout', { body: { rolloutPercent: 60 } });
    await call('post', '/api/v1/flags/docs-flag/rollout', { body: { rolloutPercent: 60 }, headers: { 'if-match': '"1"' } });
    flag = await call('post', '/api/v1/flags/docs-flag/kill', { body: { reason: 'docs check' }, headers: ifMatch(flag) });
    flag = await call('post', '/api/v1/flags/docs-flag/revive', { body: { reason: 'docs check' }, headers: ifMatch(flag) });
    await call('post', '/api/v1/flags/docs-flag/conversations/evaluate', { body: { conversation: { id: 'c1', participants: ['1', { targetingKey: '2', e2eeCapable: true }] } } });
    await call('get', '/api/v1/flags/no-such-flag');
    const strict = ajv.compile(documentedSchema(doc, 'get', '/api/v1/flags/docs-flag', 200));
    expect(strict(flag.body)).toBe(true);
    expect(strict({ ...flag.body, killed: 'no' })).toBe(false);
    expect(strict({ ...flag.body, surprise: 1 })).toBe(false);

    await call('post', '/api/v1/users/seed', { body: { count: 20, seed: 3 } });
    const user = await call('get', '/api/v1/users/1');
    await call('patch', '/api/v1/users/1', { body: { attributes: { locale: 'de-DE' } }, headers: ifMatch(user) });
    await call('get', '/api/v1/users/import');
    const line = JSON.stringify({ id: '100', country: 'DE', platform: 'ios', appVersion: '24.3.1', e2eeCapable: true });
    await call('post', '/api/v1/users/import', { rawBody: `${line}\n{"id":-1}\n`, headers: { 'content-type': 'application/x-ndjson' } });
    await call('post', '/api/v1/users/1/recovery', { body: { method: 'pin' } });
  });

  it('answers campaigns, ramp, holds, insights, progress and audit as documented', async () => {
    await call('post', '/api/v1/flags', { body: { key: 'docs-admission' } });
    let c = await call('post', '/api/v1/campaigns', { body: { key: 'docs-campaign', name: 'Docs', flag: 'docs-admission', pacing: { batchSize: 10 } } });
    await call('get', '/api/v1/campaigns');
    c = await call('get', '/api/v1/campaigns/docs-campaign');
    c = await call('patch', '/api/v1/campaigns/docs-campaign', { body: { description: 'checked' }, headers: ifMatch(c) });
    const steps = [{ ppm: 10_000, holdMinutes: 60 }, { ppm: 500_000, holdMinutes: 60, requiresApproval: true }, { ppm: 1_000_000, holdMinutes: 0 }];
    let ramp = await call('put', '/api/v1/campaigns/docs-campaign/ramp', { body: { steps }, headers: ifMatch(c) });
    ramp = await call('put', '/api/v1/campaigns/docs-campaign/guardrails', { body: { rules: [{ metric: 'failure_ratio', threshold: 0.2, action: 'pause' }] }, headers: ifMatch(ramp) });
    await call('get', '/api/v1/campaigns/docs-campaign/ramp');
    c = await call('post', '/api/v1/campaigns/docs-campaign/start', { body: {}, headers: ifMatch(ramp) });
    await call('get', '/api/v1/campaigns/docs-campaign/forecast');
    await call('get', '/api/v1/campaigns/docs-campaign/users/1');
    await call('post', '/api/v1/campaigns/docs-campaign/opt-in', { body: { userId: '2' } });
    const hold = await call('post', '/api/v1/campaigns/docs-campaign/holds', { body: { filter: { countries: ['DE'] }, reason: 'docs check' } });
    await call('post', '/api/v1/campaigns/docs-campaign/holds', { body: { filter: { countries: ['DE'] }, reason: 'docs check' } });
    await call('get', '/api/v1/campaigns/docs-campaign/holds');
    await call('get', `/api/v1/campaigns/docs-campaign/holds/${hold.body.id}`);
    await call('delete', `/api/v1/campaigns/docs-campaign/holds/${hold.body.id}`, { body: {} });
    await call('get', '/api/v1/campaigns/docs-campaign/progress');
    await call('get', '/api/v1/campaigns/docs-campaign/progress/history');
    await call('get', '/api/v1/progress/campaigns');
    c = await call('get', '/api/v1/campaigns/docs-campaign');
    c = await call('post', '/api/v1/campaigns/docs-campaign/ramp/promote', { body: {}, headers: ifMatch(c) });
    c = await call('post', '/api/v1/campaigns/docs-campaign/ramp/approve', { body: { reason: 'second pair of eyes' }, headers: ifMatch(c) });
    c = await call('post', '/api/v1/campaigns/docs-campaign/ramp/set-step', { body: { step: 0, reason: 'back to the first step' }, headers: ifMatch(c) });
    c = await call('post', '/api/v1/campaigns/docs-campaign/pause', { body: {}, headers: ifMatch(c) });
    c = await call('post', '/api/v1/campaigns/docs-campaign/ramp/resume', { body: {}, headers: ifMatch(c) });
    await call('post', '/api/v1/campaigns/docs-campaign/retry-failed', { body: {} });
    c = await call('post', '/api/v1/campaigns/docs-campaign/halt', { body: { reason: 'docs check' }, headers: ifMatch(c) });
    await call('post', '/api/v1/campaigns/docs-campaign/complete', { body: {}, headers: { 'if-match': '"1"' } });
    await call('get', '/api/v1/audit?limit=5');
    await call('get', '/health/ready');
    expect(checked.size).toBeGreaterThan(40);
  });
});
