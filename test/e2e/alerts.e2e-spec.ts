import { startTestApi, type TestApi } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf } from './ramp.helpers';

/** One Alertmanager (version 4) webhook payload, as Alertmanager sends it. */
export function alertmanagerPayload(alerts: Array<{ labels: Record<string, string>; annotations?: Record<string, string>; fingerprint: string; startsAt?: string; status?: 'firing' | 'resolved' }>) {
  return {
    version: '4',
    groupKey: '{}:{alertname="x"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'cutover',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt ?? '2026-12-07T22:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example/graph',
      fingerprint: a.fingerprint,
    })),
  };
}

/**
 * Alerts in, against the real API: an alerter key posts alerts that pause or halt the
 * campaigns their labels name, once per alert (fingerprint and startsAt), audited with the
 * alert's labels and annotations. Bad keys, roles, bodies and sizes are refused.
 */
describe('alerts in', () => {
  let api: TestApi;
  let alerter: string;
  let n = 0;

  const running = async (): Promise<string> => {
    n++;
    await createFlag(api, `al-flag-${n}`, 0);
    const c = await createCampaign(api, { key: `al-${n}`, name: `Alerted ${n}`, flag: `al-flag-${n}` });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    return c.id;
  };
  const post = (body: unknown, key: string | null = alerter) => api.request('POST', '/api/v1/alerts', { body, key });
  const statusOf = async (id: string) => (await api.request('GET', `/api/v1/campaigns/${id}`)).body.status as string;

  beforeAll(async () => {
    api = await startTestApi({ HTTP_BODY_LIMIT_BYTES: '65536' });
    alerter = await api.newKey('alerter');
  }, 60_000);
  afterAll(() => api?.close());

  it('halts the campaign a firing Alertmanager alert names, audited with its labels and annotations', async () => {
    const id = await running();
    const labels = { alertname: 'SendFailures', severity: 'page', cutover_campaign: `al-${n}`, cutover_action: 'halt' };
    const r = await post(alertmanagerPayload([{ labels, annotations: { summary: 'message sends failing at 4%' }, fingerprint: 'f1' }]));
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([expect.objectContaining({ campaign: `al-${n}`, campaignId: id, action: 'halt', outcome: 'applied', status: 'halted' })]);
    expect(await statusOf(id)).toBe('halted');

    const [halted] = await auditOf(api, id, 'campaign.halted');
    expect(halted).toMatchObject({ actor: { role: 'alerter' }, reason: 'alert SendFailures: message sends failing at 4%' });
    const [received] = await auditOf(api, id, 'campaign.alert_received');
    expect(received.after).toMatchObject({ outcome: 'applied', action: 'halt', alert: { name: 'SendFailures', fingerprint: 'f1', startsAt: '2026-12-07T22:00:00.000Z', labels, annotations: { summary: 'message sends failing at 4%' } } });
  });

  it('acts once per alert: a repeat (same fingerprint and startsAt) does not pause a campaign an operator resumed', async () => {
    const id = await running();
    const payload = alertmanagerPayload([{ labels: { alertname: 'Crashes', cutover_campaign: id }, fingerprint: 'f2' }]);
    expect((await post(payload)).body.results[0]).toMatchObject({ outcome: 'applied', status: 'paused' });
    expect((await act(api, id, 'resume', { reason: 'false alarm' })).status).toBe(200);

    const repeat = await post(payload);
    expect(repeat.body.results[0]).toMatchObject({ outcome: 'duplicate', status: 'running' });
    expect(await statusOf(id)).toBe('running');
    expect(await auditOf(api, id, 'campaign.paused')).toHaveLength(1);
    expect(await auditOf(api, id, 'campaign.alert_received')).toHaveLength(1);

    const again = alertmanagerPayload([{ labels: { alertname: 'Crashes', cutover_campaign: id }, fingerprint: 'f2', startsAt: '2026-12-07T23:00:00.000Z' }]);
    expect((await post(again)).body.results[0]).toMatchObject({ outcome: 'applied', status: 'paused' });
  });

  it('ignores resolved alerts, alerts without the campaign label and unknown actions, and reports unknown campaigns', async () => {
    const id = await running();
    const r = await post(
      alertmanagerPayload([
        { labels: { alertname: 'Resolved', cutover_campaign: id }, fingerprint: 'g1', status: 'resolved' },
        { labels: { alertname: 'Unrelated' }, fingerprint: 'g2' },
        { labels: { alertname: 'Typo', cutover_campaign: id, cutover_action: 'stop' }, fingerprint: 'g3' },
        { labels: { alertname: 'Elsewhere', cutover_campaign: 'no-such-campaign' }, fingerprint: 'g4' },
      ]),
    );
    expect(r.status).toBe(200);
    expect(r.body.ignored.map((i: { alertName: string }) => i.alertName)).toEqual(['Resolved', 'Unrelated', 'Typo']);
    expect(r.body.ignored[2].why).toContain('cutover_action must be pause or halt');
    expect(r.body.results).toEqual([expect.objectContaining({ campaign: 'no-such-campaign', outcome: 'not_found', campaignId: null })]);
    expect(await statusOf(id)).toBe('running');
  });

  it('takes the plain form, one alert naming several campaigns, and says when an action does not apply', async () => {
    const a = await running();
    const b = await running();
    const r = await post({ campaign: `${a},${b}`, action: 'pause', reason: 'key server p99 over 2 s', id: 'inc-7', labels: { team: 'keys' } });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { outcome: string; status: string }) => [x.outcome, x.status])).toEqual([['applied', 'paused'], ['applied', 'paused']]);
    expect((await post({ campaign: a, action: 'pause', reason: 'key server p99 over 2 s', id: 'inc-7' })).body.results[0].outcome).toBe('duplicate');
    expect((await post({ campaign: a, action: 'pause', reason: 'again, no id' })).body.results[0].outcome).toBe('already');
    expect((await post({ campaign: a, action: 'halt', reason: 'worse now' })).body.results[0]).toMatchObject({ outcome: 'applied', status: 'halted' });
    expect((await post({ campaign: a, action: 'pause', reason: 'paused after halt' })).body.results[0]).toMatchObject({ outcome: 'not_applicable', status: 'halted' });
  });

  it('refuses a missing or wrong key (401) and a key of another narrow role (403); the alerter key can do nothing else', async () => {
    const body = { campaign: 'x', action: 'pause', reason: 'test' };
    expect((await post(body, null)).status).toBe(401);
    expect((await post(body, alerter.slice(0, -4) + 'AAAA')).status).toBe(401);
    expect((await post(body, await api.newKey('viewer'))).status).toBe(403);
    expect((await post(body, await api.newKey('evaluator'))).status).toBe(403);
    expect((await api.request('GET', '/api/v1/campaigns', { key: alerter })).status).toBe(403);
    expect((await api.request('POST', '/ofrep/v1/evaluate/flags', { key: alerter, body: { context: { targetingKey: '1' } } })).status).toBe(403);
  });

  it('answers 400 naming the field for a malformed alert, and 413 for an oversized one', async () => {
    const bad = await post(alertmanagerPayload([{ labels: { alertname: 'X' }, fingerprint: 'h1', startsAt: 'yesterday' }]));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'request.validation_failed', details: [{ field: 'body.alerts.0.startsAt' }] });
    const plain = await post({ campaign: 'x', action: 'resume', reason: 'nope' });
    expect(plain.body).toMatchObject({ code: 'request.validation_failed', details: [{ field: 'body.action' }] });
    const notObject = await post([1, 2]);
    expect(notObject.body).toMatchObject({ code: 'request.validation_failed', details: [{ field: 'body' }] });
    const huge = await post(alertmanagerPayload([{ labels: { alertname: 'Big', filler: 'x'.repeat(70_000) }, fingerprint: 'h2' }]));
    expect(huge.status).toBe(413);
  });
});
