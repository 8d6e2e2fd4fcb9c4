import { alertTargets, campaignRefs } from './alert-targets';
import { parseAlertBody } from './alerts.schemas';

const am = (alerts: object[]) => parseAlertBody({ version: '4', status: 'firing', alerts });
const alert = (labels: Record<string, string>, extra: object = {}) => ({
  status: 'firing', labels, annotations: {}, startsAt: '2026-12-07T22:00:00Z', fingerprint: 'fp', ...extra,
});

describe('alertTargets', () => {
  it('pauses by default and halts when the action label says so, one target per named campaign', () => {
    const { targets, ignored } = alertTargets(am([alert({ alertname: 'A', cutover_campaign: 'one, two,one' }), alert({ alertname: 'B', cutover_campaign: '7', cutover_action: 'halt' })]));
    expect(ignored).toEqual([]);
    expect(targets.map((t) => [t.alertName, t.campaign, t.action])).toEqual([['A', 'one', 'pause'], ['A', 'two', 'pause'], ['B', '7', 'halt']]);
    expect(targets[0]).toMatchObject({ fingerprint: 'fp', startsAt: new Date('2026-12-07T22:00:00Z'), reason: 'alert A' });
  });

  it('takes the reason from the summary, else the description, cut to 2000 characters', () => {
    const [a] = alertTargets(am([alert({ alertname: 'A', cutover_campaign: 'c' }, { annotations: { description: 'd', summary: 's' } })])).targets;
    expect(a.reason).toBe('alert A: s');
    const [b] = alertTargets(am([alert({ alertname: 'B', cutover_campaign: 'c' }, { annotations: { description: 'x'.repeat(3000) } })])).targets;
    expect(b.reason).toHaveLength(2000);
  });

  it('never acts on a resolved alert, one without the campaign label, or an unknown action', () => {
    const { targets, ignored } = alertTargets(
      am([alert({ alertname: 'R', cutover_campaign: 'c' }, { status: 'resolved' }), alert({ alertname: 'N' }), alert({ alertname: 'T', cutover_campaign: 'c', cutover_action: 'resume' })]),
    );
    expect(targets).toEqual([]);
    expect(ignored.map((i) => i.alertName)).toEqual(['R', 'N', 'T']);
  });

  it('reads the plain form; without an id it is not deduplicated', () => {
    const { targets } = alertTargets(parseAlertBody({ campaign: 'c', action: 'halt', reason: 'keys down' }));
    expect(targets).toEqual([expect.objectContaining({ campaign: 'c', action: 'halt', reason: 'keys down', fingerprint: null, alertName: 'plain' })]);
  });

  it('splits a label value into distinct campaign references', () => {
    expect(campaignRefs(' a ,b,,a ')).toEqual(['a', 'b']);
    expect(campaignRefs('')).toEqual([]);
  });
});

describe('parseAlertBody', () => {
  it('names the field of a malformed Alertmanager payload or plain alert', () => {
    expect(() => am([alert({ alertname: 'A' }, { fingerprint: '' })])).toThrow(/body\.alerts\.0\.fingerprint/);
    expect(() => parseAlertBody({ version: '3', status: 'firing', alerts: [] })).toThrow(/body\.version/);
    expect(() => parseAlertBody({ campaign: 'c', action: 'pause' })).toThrow(/body\.reason/);
    expect(() => parseAlertBody({ campaign: 'c', action: 'pause', reason: 'ok then', extra: 1 })).toThrow(/body/);
    expect(() => parseAlertBody('text')).toThrow(/body: must be a JSON object/);
  });
});
