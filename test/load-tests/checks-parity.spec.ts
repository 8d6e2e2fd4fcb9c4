import fc from 'fast-check';
import * as node from '../../bench/http-checks';
import { loadK6Script } from './k6-loader';

// The Node benches (bench/http-*.ts) must judge answers exactly as the k6 scenarios do.
const ofrep = loadK6Script('lib/ofrep.js').exports;
const campaign = loadK6Script('lib/campaign.js').exports;
const bulk = loadK6Script('evaluate-bulk.js', { API_KEY: 'k' }).exports;
const optIn = loadK6Script('opt-in-storm.js', { API_KEY: 'k' }).exports;

const ok = { key: 'f', value: true, variant: 'on', reason: 'SPLIT', metadata: {} };
const OFREP_BODIES: unknown[] = [
  ok,
  { ...ok, reason: 'DISABLED', value: false, variant: 'off' },
  { ...ok, key: 'g' },
  { ...ok, value: 'true' },
  { ...ok, reason: 'NOPE' },
  { ...ok, variant: undefined },
  { key: 'f', errorCode: 'FLAG_NOT_FOUND', errorDetails: 'x' },
  { ...ok, errorCode: 'GENERAL' },
  null,
  'text',
  {},
];

describe('bench checks = k6 checks', () => {
  it.each(OFREP_BODIES.map((b) => [JSON.stringify(b), b]))('OFREP single answer %s', (_label, body) => {
    expect(node.isOfrepSuccess(body, 'f')).toBe(ofrep.isOfrepSuccess(body, 'f'));
  });

  it('OFREP bulk answers', () => {
    const bodies = [{ flags: [ok, { ...ok, key: 'g' }] }, { flags: [ok] }, { flags: [ok, { ...ok, key: 'g', reason: 'X' }] }, { flags: 'no' }, null];
    for (const b of bodies) expect(node.hasAllFlags(b, ['f', 'g'])).toBe(bulk.hasAllFlags(b, ['f', 'g']));
  });

  it('progress documents', () => {
    const counts = { legacy: 0, ineligible: 1, eligible: 2, enrolling: 0, enabled: 5, failed: 0, held: 0, total: 8 };
    const bodies = [{ campaign: { status: 'running' }, counts }, { campaign: { status: 'running' }, counts: { ...counts, total: undefined } }, { counts }, null];
    for (const b of bodies) expect(node.isProgress(b)).toBe(campaign.isProgress(b));
  });

  it('opt-in idempotency, for any pair of answers', () => {
    const state = fc.constantFrom(null, ...node.STATES);
    const answer = fc.record({ status: fc.constantFrom(200, 201, 404, 409, 429, 500), body: fc.record({ code: fc.constantFrom(undefined, 'a.b', 'c.d'), userId: fc.constantFrom(undefined, '1', '2'), state }) });
    fc.assert(
      fc.property(answer, answer, (a, b) => {
        const n = node.sameAnswer(node.answerOf(a.status, a.body), node.answerOf(b.status, b.body));
        const k = optIn.sameAnswer(optIn.answerOf(a), optIn.answerOf(b));
        expect(n).toBe(k);
      }),
    );
  });
});
