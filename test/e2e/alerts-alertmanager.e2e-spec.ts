import { startAlertmanager, type RunningAlertmanager } from '../support/alertmanager';
import { startTestApi, type TestApi } from '../support/app';
import { waitFor } from '../support/wait';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf } from './ramp.helpers';

/**
 * A real Alertmanager (Debian's prometheus-alertmanager, on a private port) routes a firing
 * alert to POST /api/v1/alerts with an alerter key, and keeps repeating it every second: the
 * campaign the alert names is halted once, audited once, whatever the number of repeats.
 */
describe('alerts in from a real Alertmanager', () => {
  let api: TestApi;
  let am: RunningAlertmanager;

  beforeAll(async () => {
    api = await startTestApi();
    am = await startAlertmanager({ webhookUrl: `${api.url}/api/v1/alerts`, bearer: await api.newKey('alerter') });
  }, 60_000);
  afterAll(async () => {
    await am?.close();
    await api?.close();
  });

  it('halts the campaign a firing alert names, once across Alertmanager’s repeats', async () => {
    await createFlag(api, 'am-flag', 0);
    const c = await createCampaign(api, { key: 'am-campaign', name: 'Alertmanager', flag: 'am-flag' });
    expect((await act(api, c.id, 'start')).status).toBe(200);

    await am.fire([{ labels: { alertname: 'KeyServerLatency', severity: 'page', cutover_campaign: 'am-campaign', cutover_action: 'halt' }, annotations: { summary: 'key server p99 above 2 s' } }]);
    const halted = await waitFor('the alert to halt the campaign', () => api.request('GET', `/api/v1/campaigns/${c.id}`), (r) => r.body.status === 'halted', 30_000, 100);
    expect(halted.body.haltReason).toBe('alert KeyServerLatency: key server p99 above 2 s');

    await waitFor('Alertmanager to repeat the notification', () => am.notificationsSent(), (sent) => sent >= 3, 30_000, 200);
    expect(await auditOf(api, c.id, 'campaign.halted')).toHaveLength(1);
    const received = await auditOf(api, c.id, 'campaign.alert_received');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      actor: { role: 'alerter' },
      after: { outcome: 'applied', alert: { name: 'KeyServerLatency', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/), labels: { severity: 'page' }, annotations: { summary: 'key server p99 above 2 s' } } },
    });
  });
});
