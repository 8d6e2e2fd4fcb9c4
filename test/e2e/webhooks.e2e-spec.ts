import type { INestApplicationContext } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { verifyWebhookSignature } from '../../src/webhooks/webhook-signature';
import { freePort } from '../support/daemon';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { waitFor } from '../support/wait';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, rampAction, setPlan } from './ramp.helpers';

interface Received {
  path: string;
  eventId: string;
  type: string;
  body: any;
  signedWith: string | null;
  answered: number;
}

/**
 * A receiver that checks every signature, answers the first attempt of each event with a 500
 * and later ones with 200, and deduplicates on the event id as receivers are told to.
 */
class Receiver {
  readonly received: Received[] = [];
  readonly processed = new Map<string, Received>();
  secrets: Record<string, string> = {};
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '';
        const signedWith = Object.entries(this.secrets).find(([, s]) => verifyWebhookSignature(s, raw, req.headers['cutover-signature'] as string, Math.floor(Date.now() / 1000)))?.[0] ?? null;
        const eventId = String(req.headers['cutover-event-id']);
        const firstAttempt = !this.received.some((r) => r.path === path && r.eventId === eventId);
        const answered = signedWith === null ? 401 : firstAttempt ? 500 : 200;
        const r: Received = { path, eventId, type: String(req.headers['cutover-event']), body: JSON.parse(raw), signedWith, answered };
        this.received.push(r);
        if (answered === 200 && !this.processed.has(`${path} ${eventId}`)) this.processed.set(`${path} ${eventId}`, r);
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  processedOn(path: string): Received[] {
    return [...this.processed.values()].filter((r) => r.path === path);
  }
}

/**
 * Notifications out, end to end: subscriptions (admin, audited, ETag), the outbox drained by
 * the worker, signed deliveries with retries and backoff, a Slack body, and delivery status.
 */
describe('webhooks', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  const receiver = new Receiver();

  beforeAll(async () => {
    env = await createTestEnvironment({ WEBHOOKS_DISPATCH_INTERVAL_MS: '100', WEBHOOKS_BACKOFF_MS: '50', WEBHOOKS_MAX_ATTEMPTS: '3', RAMP_TICK_INTERVAL_MS: '200' });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    await receiver.start();
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await receiver.close();
  });

  const subscribe = async (body: Record<string, unknown>) => {
    const r = await api.request('POST', '/api/v1/webhooks', { body });
    expect(r.status).toBe(201);
    return r.body as { webhook: { id: string; version: number }; secret: string };
  };

  it('delivers signed events once each, retried after a failed attempt with the same event id, as JSON and as Slack bodies', async () => {
    const json = await subscribe({ name: 'ops', url: `${receiver.url}/json`, events: ['campaign.paused', 'campaign.halted', 'flag.killed'] });
    const slack = await subscribe({ name: 'slack', url: `${receiver.url}/slack`, events: ['campaign.halted'], format: 'slack', secret: 'a-shared-secret-of-mine' });
    const deadPort = await freePort();
    const dead = await subscribe({ name: 'gone', url: `http://127.0.0.1:${deadPort}/x`, events: ['campaign.halted'] });
    receiver.secrets = { json: json.secret, slack: slack.secret };
    expect(slack.secret).toBe('a-shared-secret-of-mine');

    await createFlag(api, 'wh-flag', 0);
    const c = await createCampaign(api, { key: 'wh-campaign', name: 'Webhooks', flag: 'wh-flag' });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    expect((await act(api, c.id, 'pause', { reason: 'checking dashboards' })).status).toBe(200);
    expect((await act(api, c.id, 'halt', { reason: 'backend incident' })).status).toBe(200);
    const flag = await api.request('GET', '/api/v1/flags/wh-flag');
    expect((await api.request('POST', '/api/v1/flags/wh-flag/kill', { body: { reason: 'incident' }, headers: { 'if-match': flag.headers.get('etag')! } })).status).toBe(200);

    await waitFor('every event processed by the receiver', async () => [receiver.processedOn('/json').length, receiver.processedOn('/slack').length], ([j, s]) => j === 3 && s === 1, 60_000, 100);
    expect(receiver.received.every((r) => r.signedWith === (r.path === '/json' ? 'json' : 'slack'))).toBe(true);

    const byType = Object.fromEntries(receiver.processedOn('/json').map((r) => [r.type, r]));
    expect(Object.keys(byType).sort()).toEqual(['campaign.halted', 'campaign.paused', 'flag.killed']);
    expect(byType['campaign.halted'].body).toMatchObject({
      id: byType['campaign.halted'].eventId, type: 'campaign.halted', action: 'campaign.halted',
      subject: { type: 'campaign', id: c.id, key: 'wh-campaign' }, reason: 'backend incident', after: { status: 'halted' },
    });
    expect(byType['flag.killed'].body).toMatchObject({ type: 'flag.killed', subject: { type: 'flag', id: 'wh-flag' }, reason: 'incident' });
    for (const r of receiver.processedOn('/json')) {
      const attempts = receiver.received.filter((x) => x.path === '/json' && x.eventId === r.eventId);
      expect(attempts.map((a) => a.answered)).toEqual([500, 200]);
      expect(new Set(attempts.map((a) => a.body.id))).toEqual(new Set([r.eventId]));
    }
    const [slackBody] = receiver.processedOn('/slack');
    expect(slackBody.body).toEqual({ text: expect.stringMatching(/^\[cutover\] campaign wh-campaign was halted \(intake stopped\) by bootstrap admin \(AUTH_ADMIN_KEY\) \(admin\): backend incident$/), eventId: slackBody.eventId, type: 'campaign.halted' });

    const deliveries = await api.request('GET', `/api/v1/webhooks/${json.webhook.id}/deliveries`);
    expect(deliveries.body.items.map((d: any) => [d.eventType, d.status, d.attempts, d.lastStatusCode])).toEqual([
      ['flag.killed', 'delivered', 2, 200],
      ['campaign.halted', 'delivered', 2, 200],
      ['campaign.paused', 'delivered', 2, 200],
    ]);
    const failed = await waitFor('the unreachable receiver to be given up', () => api.request('GET', `/api/v1/webhooks/${dead.webhook.id}/deliveries`), (r) => r.body.items[0]?.status === 'failed', 30_000, 100);
    expect(failed.body.items[0]).toMatchObject({ eventType: 'campaign.halted', attempts: 3, lastStatusCode: null, lastError: expect.any(String) });
  }, 90_000);

  it('tells when the ramp waits for an approval (once per wait) and when it advanced', async () => {
    const hook = await subscribe({ name: 'ramp', url: `${receiver.url}/ramp`, events: ['approval.needed', 'step.advanced'] });
    receiver.secrets = { ...receiver.secrets, ramp: hook.secret };
    await createFlag(api, 'wh-ramp-flag', 0);
    const c = await createCampaign(api, { key: 'wh-ramp', name: 'Webhooks ramp', flag: 'wh-ramp-flag' });
    await setPlan(api, c.id, { steps: [{ percent: 1, requiresApproval: true, holdSeconds: 0 }, { percent: 2 }] });
    expect((await act(api, c.id, 'start')).status).toBe(200);

    await waitFor('approval.needed at the receiver', async () => receiver.processedOn('/ramp').map((r) => r.type), (t) => t.includes('approval.needed'), 60_000, 100);
    expect((await rampAction(api, c.id, 'approve', { reason: 'canary reviewed' })).status).toBe(200);
    await waitFor('step.advanced at the receiver', async () => receiver.processedOn('/ramp').map((r) => r.type), (t) => t.includes('step.advanced'), 60_000, 100);

    expect(await auditOf(api, c.id, 'campaign.ramp_approval_needed')).toHaveLength(1);
    const needed = receiver.processedOn('/ramp').find((r) => r.type === 'approval.needed')!;
    expect(needed.body).toMatchObject({ subject: { key: 'wh-ramp' }, actor: { name: 'ramp-controller' }, reason: 'step 1 of 2 requires approval' });
    expect(receiver.received.filter((r) => r.path === '/ramp').every((r) => r.signedWith === 'ramp')).toBe(true);
  }, 90_000);

  it('keeps subscriptions under optimistic concurrency, audits changes without the secret, and names bad fields', async () => {
    const { webhook } = await subscribe({ name: 'crud', url: 'https://hooks.example/x', events: ['step.advanced'] });
    expect((await api.request('GET', `/api/v1/webhooks/${webhook.id}`)).body).not.toHaveProperty('secret');
    const patched = await api.request('PATCH', `/api/v1/webhooks/${webhook.id}`, { body: { events: ['approval.needed', 'step.advanced'], reason: 'more events' }, headers: { 'if-match': '"1"' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ['approval.needed', 'step.advanced'], version: 2 });
    expect((await api.request('PATCH', `/api/v1/webhooks/${webhook.id}`, { body: { enabled: false }, headers: { 'if-match': '"1"' } })).status).toBe(409);

    const audit = await api.request('GET', `/api/v1/audit?entityType=webhook&entityId=${webhook.id}`);
    expect(audit.body.items.map((e: any) => e.action)).toEqual(['webhook.updated', 'webhook.created']);
    expect(JSON.stringify(audit.body.items)).not.toContain('whsec_');

    const bad = await api.request('POST', '/api/v1/webhooks', { body: { name: 'x', url: 'ftp://x', events: ['campaign.exploded'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['body.events.0', 'body.url']);
    expect((await api.request('GET', '/api/v1/webhooks', { key: await api.newKey('operator') })).status).toBe(403);

    expect((await api.request('DELETE', `/api/v1/webhooks/${webhook.id}`, { body: { reason: 'done' }, headers: { 'if-match': '"2"' } })).status).toBe(204);
    expect((await api.request('GET', `/api/v1/webhooks/${webhook.id}`)).status).toBe(404);
  });
});
