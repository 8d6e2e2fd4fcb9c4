import { KILL_SWITCH_REASON_MAX } from '../../src/core/http/input-guard';
import { normalizeText, truncateText } from '../../src/core/validation/hostile-input';
import { startTestApi, type TestApi } from '../support/app';
import { HOSTILE_TEXT, deepJson, errorShapeViolation, withRawField } from './hostile.helpers';
import { act, createCampaign, createFlag } from './migration.helpers';

const REASONS: ReadonlyArray<[string, string]> = [...HOSTILE_TEXT, ['emoji and RTL', '🔐 رجوع \u202e'], ['NUL padded', '  \u0000 backend on fire \u0000  ']];

/**
 * The kill switches work whatever the reason says: a flag kill, a campaign halt or pause (and
 * the ramp's) whose reason holds NUL, lone surrogates, 100 kB or deep JSON text takes effect,
 * with the reason stored normalized (U+FFFD, cut to 2,000 characters). A body that is not a
 * reason at all (a deep JSON value) is a 400 in the documented shape that changes nothing,
 * and the same switch with a plain reason still works afterwards.
 */
describe('kill switches with hostile reasons', () => {
  let api: TestApi;
  let n = 0;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const stored = (reason: string) => truncateText(normalizeText(reason), KILL_SWITCH_REASON_MAX).trim();

  async function lastAudit(entityType: string, entityId: string) {
    return (await api.request('GET', `/api/v1/audit?entityType=${entityType}&entityId=${encodeURIComponent(entityId)}&limit=1`)).body.items[0];
  }

  async function runningCampaign(): Promise<string> {
    const flag = await createFlag(api, `ks-flag-${++n}`, 0);
    const c = await createCampaign(api, { key: `ks-campaign-${n}`, name: `kill switch ${n}`, flag: flag.key });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    return c.id;
  }

  it.each(REASONS)('kills a flag whose reason is %s, and evaluation answers DISABLED', async (_label, reason) => {
    const flag = await createFlag(api, `ks-kill-${++n}`, 1_000_000);
    const r = await api.request('POST', `/api/v1/flags/${flag.key}/kill`, { body: { reason }, headers: { 'if-match': flag.etag } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ killed: true, killReason: stored(reason) });
    expect(await lastAudit('flag', flag.key)).toMatchObject({ action: 'flag.killed', reason: stored(reason) });
    const evaluated = await api.request('POST', `/ofrep/v1/evaluate/flags/${flag.key}`, { body: { context: { targetingKey: '42' } } });
    expect(evaluated.body).toMatchObject({ value: false, reason: 'DISABLED' });
  });

  it.each(REASONS)('halts a running campaign whose reason is %s', async (_label, reason) => {
    const id = await runningCampaign();
    const r = await act(api, id, 'halt', { reason });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'halted', haltReason: stored(reason) });
    expect(await lastAudit('campaign', id)).toMatchObject({ action: 'campaign.halted', reason: stored(reason) });
  });

  it.each(REASONS)('pauses a running campaign, and halts it through the ramp, whose reason is %s', async (_label, reason) => {
    const paused = await runningCampaign();
    expect((await act(api, paused, 'pause', { reason })).body).toMatchObject({ status: 'paused' });
    const viaRamp = await runningCampaign();
    const etag = (await api.request('GET', `/api/v1/campaigns/${viaRamp}`)).headers.get('etag')!;
    const r = await api.request('POST', `/api/v1/campaigns/${viaRamp}/ramp/halt`, { body: { reason }, headers: { 'if-match': etag } });
    expect(r.status).toBe(200);
    expect((await api.request('GET', `/api/v1/campaigns/${viaRamp}`)).body.status).toBe('halted');
  });

  it('refuses a reason that is not text (deep JSON values) with a 400 that changes nothing, then kills with a plain one', async () => {
    const id = await runningCampaign();
    const flag = await createFlag(api, `ks-deep-${++n}`, 1_000_000);
    const etag = (await api.request('GET', `/api/v1/campaigns/${id}`)).headers.get('etag')!;
    for (const raw of [withRawField({}, 'reason', deepJson(10_000)), withRawField({ reason: 'backend down' }, 'extra', deepJson(10_000, true))]) {
      for (const [path, ifMatch] of [[`/api/v1/campaigns/${id}/halt`, etag], [`/api/v1/flags/${flag.key}/kill`, flag.etag]]) {
        const r = await api.request('POST', path, { rawBody: raw, headers: { 'if-match': ifMatch } });
        expect(r.status).toBe(400);
        expect(errorShapeViolation(r.status, JSON.stringify(r.body))).toBeNull();
      }
    }
    expect((await api.request('GET', `/api/v1/campaigns/${id}`)).body.status).toBe('running');
    expect((await act(api, id, 'halt', { reason: 'backend down' })).body.status).toBe('halted');
    const killed = await api.request('POST', `/api/v1/flags/${flag.key}/kill`, { body: { reason: 'backend down' }, headers: { 'if-match': flag.etag } });
    expect(killed.body.killed).toBe(true);
  });
});
