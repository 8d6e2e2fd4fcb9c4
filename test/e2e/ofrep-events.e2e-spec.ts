import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import Ajv from 'ajv';
import { EventSource } from 'eventsource';
import { get, type IncomingMessage } from 'node:http';
import { Client as Pg } from 'pg';
import { startTestApi, type TestApi } from '../support/app';

/**
 * JSON Schema of the OFREP event-stream extension (ADR 0008 of the OpenFeature protocol,
 * accepted): the bulk answer's `eventStreams` entries and the JSON in an SSE message's data.
 */
const eventStream = {
  type: 'object',
  required: ['type'],
  oneOf: [
    { required: ['url'], not: { required: ['endpoint'] } },
    { required: ['endpoint'], not: { required: ['url'] } },
  ],
  properties: {
    type: { type: 'string' },
    url: { type: 'string' },
    endpoint: { type: 'object', required: ['requestUri'], properties: { origin: { type: 'string' }, requestUri: { type: 'string', pattern: '^/' } } },
    inactivityDelaySec: { type: 'integer', minimum: 1 },
  },
};
const bulkSuccess = { type: 'object', required: ['flags'], properties: { flags: { type: 'array' }, eventStreams: { type: 'array', items: eventStream } } };
const sseEventData = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' }, etag: { type: 'string' }, lastModified: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string' }] } },
};
const ajv = new Ajv({ strict: false });
const validBulk = ajv.compile(bulkSuccess);
const validEventData = ajv.compile(sseEventData);

interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** A raw SSE reader on its own socket (no keep-alive pool): resolves each awaited message as the server sends it. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const messages: SseMessage[] = [];
  let buffer = '';
  const req = get(url, { headers, agent: false });
  const res = await new Promise<IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject));
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop()!;
    for (const block of blocks) {
      const fields = block.split('\n').filter((l) => !l.startsWith(':'));
      const field = (name: string) => fields.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      const data = field('data');
      if (data !== undefined) messages.push({ id: field('id'), event: field('event'), data });
    }
  });
  res.on('error', () => undefined);
  const next = async (pred: (m: SseMessage) => boolean, timeoutMs = 10_000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const i = messages.findIndex(pred);
      if (i >= 0) return messages.splice(0, i + 1)[i];
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no matching SSE message in time');
  };
  const closed = new Promise((r) => req.once('close', r));
  return { status: res.statusCode, contentType: res.headers['content-type'], messages, next, close: async () => (req.destroy(), await closed) };
}

const naming = (key: string) => (m: SseMessage) => (JSON.parse(m.data) as { keys?: string[] }).keys?.includes(key) ?? false;

describe('OFREP event streams (ADR 0008): eventStreams, refetchEvaluation, flagConfigEtag', () => {
  let api: TestApi;
  let key: string;
  const bulk = (query = '', headers: Record<string, string> = {}) =>
    api.request('POST', `/ofrep/v1/evaluate/flags${query}`, { key, body: { context: { targetingKey: '42' } }, headers });
  const version = async (flag: string) => Number((await api.request('GET', `/api/v1/flags/${flag}`)).headers.get('etag')!.replace(/"/g, ''));
  const setRollout = async (flag: string, rolloutPercent: number) =>
    api.request('POST', `/api/v1/flags/${flag}/rollout`, { body: { rolloutPercent }, headers: { 'if-match': `"${await version(flag)}"` } });

  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
    key = await api.newKey('evaluator');
    await api.request('POST', '/api/v1/flags', { body: { key: 'ev.one', rolloutPercent: 100 } });
  });
  afterAll(() => api.close());

  it('advertises an SSE stream in the bulk answer, valid against the extension schema', async () => {
    const r = await bulk();
    expect(r.status).toBe(200);
    expect(validBulk(r.body)).toBe(true);
    expect(r.body.eventStreams).toEqual([{ type: 'sse', endpoint: { requestUri: expect.stringMatching(/^\/ofrep\/v1\/events\?token=[a-z0-9]{8}\.[A-Za-z0-9_-]{43}$/) }, inactivityDelaySec: 120 }]);
    const again = await bulk('', { 'if-none-match': r.headers.get('etag')! });
    expect(again.status).toBe(304);
  });

  it('sends refetchEvaluation messages with the configuration etag on the advertised URL, without an Authorization header', async () => {
    const uri = (await bulk()).body.eventStreams[0].endpoint.requestUri as string;
    const stream = await openStream(api.url + uri);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toContain('text/event-stream');
    await setRollout('ev.one', 40);
    const m = await stream.next(naming('ev.one'));
    await stream.close();
    const data = JSON.parse(m.data) as { type: string; etag: string; lastModified: number };
    expect(validEventData(data)).toBe(true);
    expect(m.event).toBe('message');
    expect(m.id).toBe(data.etag);
    expect(data).toMatchObject({ type: 'refetchEvaluation', etag: expect.any(String), lastModified: expect.any(Number) });
    expect(Math.abs(data.lastModified - Date.now() / 1000)).toBeLessThan(120);
    const refetch = await bulk(`?flagConfigEtag=${encodeURIComponent(data.etag)}&flagConfigLastModified=${data.lastModified}`);
    expect(refetch.status).toBe(200);
    expect(refetch.body.flags.find((f: { key: string }) => f.key === 'ev.one').metadata.flagVersion).toBe(await version('ev.one'));
  });

  it('refuses a forged or revoked token and an anonymous stream', async () => {
    const viewerKey = await api.newKey('viewer');
    const uri = (await api.request('POST', '/ofrep/v1/evaluate/flags', { key: viewerKey, body: { context: { targetingKey: '1' } } })).body.eventStreams[0].endpoint.requestUri as string;
    const token = decodeURIComponent(uri.split('token=')[1]);
    const forged = `${token.slice(0, 9)}${token[9] === 'A' ? 'B' : 'A'}${token.slice(10)}`;
    expect((await fetch(`${api.url}/ofrep/v1/events?token=${forged}`)).status).toBe(401);
    expect((await fetch(`${api.url}/ofrep/v1/events`)).status).toBe(401);
    const ok = await openStream(api.url + uri);
    expect(ok.status).toBe(200);
    await ok.close();
    const keys = await api.request('GET', '/api/v1/keys?limit=100');
    const viewer = keys.body.items.find((k: { prefix: string }) => k.prefix === token.slice(0, 8));
    await api.request('POST', `/api/v1/keys/${viewer.id}/revoke`, { body: { reason: 'test' } });
    expect((await fetch(api.url + uri)).status).toBe(401);
  });

  it('tells a client reconnecting with an older Last-Event-ID at once, and nothing when it is current', async () => {
    const current = await openStream(`${api.url}/ofrep/v1/events`, { authorization: `Bearer ${key}` });
    await setRollout('ev.one', 41);
    const etag = JSON.parse((await current.next(naming('ev.one'))).data).etag as string;
    await current.close();
    const behind = await openStream(`${api.url}/ofrep/v1/events`, { authorization: `Bearer ${key}`, 'last-event-id': 'an-older-etag' });
    expect(JSON.parse((await behind.next(() => true)).data)).toMatchObject({ type: 'refetchEvaluation', etag, keys: [] });
    await behind.close();
    const upToDate = await openStream(`${api.url}/ofrep/v1/events`, { authorization: `Bearer ${key}`, 'last-event-id': etag });
    await new Promise((r) => setTimeout(r, 300));
    expect(upToDate.messages).toEqual([]);
    await upToDate.close();
  });

  it('rejects malformed re-fetch parameters with 400 naming the field', async () => {
    const r = await bulk('?flagConfigLastModified=yesterday');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ errorCode: 'INVALID_CONTEXT', errorDetails: expect.stringContaining('query.flagConfigLastModified') });
    expect((await bulk('?flagConfigLastModified=2026-02-20T21:28:18Z')).status).toBe(200);
  });
});

describe('a replica that missed a change answers an event-triggered re-fetch from the database', () => {
  let api: TestApi;
  afterAll(() => api.close());

  it('re-reads the flags when flagConfigEtag names another configuration', async () => {
    // no periodic check for a minute: only the re-fetch parameter can make this replica notice
    api = await startTestApi({ FLAGS_SYNC_INTERVAL_MS: '60000' });
    await api.request('POST', '/api/v1/flags', { body: { key: 'ev.stale', rolloutPercent: 0 } });
    const evalStale = (query = '') => api.request('POST', `/ofrep/v1/evaluate/flags${query}`, { body: { context: { targetingKey: '7' } } });
    for (let i = 0; i < 100 && (await evalStale()).body.flags.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const pg = new Pg({ connectionString: api.env.config.database.url });
    await pg.connect();
    // a change this replica is never told about (no pub/sub notice), as when it missed one
    await pg.query(`UPDATE flags SET rollout_ppm = 1000000, version = version + 1, updated_at = now() WHERE key = 'ev.stale'`);
    await pg.end();
    expect((await evalStale()).body.flags[0].value).toBe(false);
    expect((await evalStale('?flagConfigEtag=the-etag-another-replica-announced')).body.flags[0]).toMatchObject({ value: true, metadata: { flagVersion: 2 } });
  });
});

describe('the OpenFeature web SDK with its OFREP provider follows the event stream', () => {
  let api: TestApi;
  const seen: string[] = [];
  beforeAll(async () => {
    api = await startTestApi({ AUTH_FAILED_LIMIT_PER_MINUTE: '1000' });
    (globalThis as { EventSource?: unknown }).EventSource = EventSource;
  });
  afterAll(async () => {
    await OpenFeature.close();
    delete (globalThis as { EventSource?: unknown }).EventSource;
    await api.close();
  });

  it('re-fetches on a refetchEvaluation message (with flagConfigEtag) and the client sees the change without polling', async () => {
    await api.request('POST', '/api/v1/flags', { body: { key: 'web.banner', rolloutPercent: 0 } });
    const key = await api.newKey('evaluator');
    const recordingFetch = (input: Request | string | URL, init?: RequestInit) => {
      seen.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    };
    const provider = new OFREPWebProvider({ baseUrl: api.url, headers: [['Authorization', `Bearer ${key}`]], cacheMode: 'disabled', pollInterval: 0, fetchImplementation: recordingFetch });
    await OpenFeature.setContext({ targetingKey: '42' });
    await OpenFeature.setProviderAndWait('cutover-web', provider);
    const client = OpenFeature.getClient('cutover-web');
    for (let i = 0; i < 100 && client.getBooleanDetails('web.banner', true).errorCode; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await OpenFeature.setContext({ targetingKey: '42' });
    }
    expect(client.getBooleanValue('web.banner', true)).toBe(false);
    const changed = new Promise<void>((resolve) => client.addHandler(ProviderEvents.ConfigurationChanged, () => resolve()));
    await new Promise((r) => setTimeout(r, 300)); // the provider connects its EventSource after the first answer
    await api.request('POST', '/api/v1/flags/web.banner/rollout', { body: { rolloutPercent: 100 }, headers: { 'if-match': '"1"' } });
    await changed;
    expect(client.getBooleanDetails('web.banner', false)).toMatchObject({ value: true, reason: 'STATIC' });
    expect(seen.some((u) => /\/ofrep\/v1\/evaluate\/flags\?flagConfigEtag=[^&]+&flagConfigLastModified=\d+$/.test(u))).toBe(true);
  });
});
