import { loadK6Script } from './k6-loader';

const config = loadK6Script('lib/config.js', { DROPPED_MAX_RATIO: '0.02' }).exports;
const campaign = loadK6Script('lib/campaign.js').exports;
const optIn = loadK6Script('opt-in-storm.js', { API_KEY: 'k' }).exports;

describe('load-tests/lib/config.js', () => {
  it.each([
    ['250ms', 0.25],
    ['30s', 30],
    ['5m', 300],
    ['1h30m', 5400],
    ['1.5s', 1.5],
  ])('reads the k6 duration %s as %d s', (text, seconds) => {
    expect(config.durationSeconds(text)).toBeCloseTo(seconds, 9);
  });

  it.each(['', '10', '5 m', 'm5', '1d', '-3s'])('refuses %j as a duration', (text) => {
    expect(() => config.durationSeconds(text)).toThrow(/not a k6 duration/);
  });

  it('allows DROPPED_MAX_RATIO of the planned iterations to drop', () => {
    expect(config.droppedIterationsGuard(10_000)).toBe('count<=200');
    expect(config.droppedIterationsGuard(10)).toBe('count<=0');
  });

  it('draws integers inside the range, both ends included', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(config.randomInt(3, 6));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });
});

describe('load-tests/lib/campaign.js', () => {
  const STATES = ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held'];
  const progress = (status: string, partial: Record<string, number>, batches = 0) => {
    const counts: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, partial[s] ?? 0]));
    counts.total = Object.values(counts).reduce((a, b) => a + b, 0);
    return { campaign: { id: '1', key: 'c', status }, counts, backlog: { batches } };
  };

  it('is settled when completed, or when nobody waits in a state that still moves', () => {
    expect(campaign.isSettled(progress('completed', {}))).toBe(true);
    expect(campaign.isSettled(progress('running', { enabled: 90, failed: 7, ineligible: 3 }))).toBe(true);
    expect(campaign.isSettled(progress('running', { enabled: 90, eligible: 1 }))).toBe(false);
    expect(campaign.isSettled(progress('running', { enabled: 90, enrolling: 5 }))).toBe(false);
    expect(campaign.isSettled(progress('running', { enabled: 90, failed: 10 }, 1))).toBe(false); // a batch still runs
    expect(campaign.isSettled(progress('running', { legacy: 100 }))).toBe(false); // not planned yet
    expect(campaign.isSettled(progress('running', {}))).toBe(false); // not materialised yet
    expect(campaign.isSettled(null)).toBe(false);
  });

  it('recognises a progress body by its status and counts', () => {
    expect(campaign.isProgress(progress('running', { eligible: 1, enabled: 2 }))).toBe(true);
    expect(campaign.isProgress({ campaign: { status: 'running' }, counts: { enabled: 1 } })).toBe(false);
    expect(campaign.isProgress({ campaign: { status: 'running' } })).toBe(false);
    expect(campaign.isProgress({ status: 'running', counts: progress('running', {}).counts })).toBe(false);
  });
});

describe('opt-in idempotency (opt-in-storm.js)', () => {
  const answer = (status: number, body: unknown) => optIn.answerOf({ status, body });

  it('accepts a repeat with the same answer, or with the user further along the ratchet', () => {
    expect(optIn.sameAnswer(answer(202, { userId: '5', state: 'eligible' }), answer(200, { userId: '5', state: 'eligible' }))).toBe(true);
    expect(optIn.sameAnswer(answer(202, { userId: '5', state: 'eligible' }), answer(200, { userId: '5', state: 'enabled' }))).toBe(true);
    expect(optIn.sameAnswer(answer(409, { code: 'campaign.not_accepting' }), answer(409, { code: 'campaign.not_accepting' }))).toBe(true);
  });

  it('rejects a repeat that goes back, changes class or error code, or names another user', () => {
    expect(optIn.sameAnswer(answer(200, { userId: '5', state: 'enabled' }), answer(200, { userId: '5', state: 'eligible' }))).toBe(false);
    expect(optIn.sameAnswer(answer(202, { userId: '5', state: 'eligible' }), answer(500, { code: 'internal' }))).toBe(false);
    expect(optIn.sameAnswer(answer(409, { code: 'a.b' }), answer(409, { code: 'a.c' }))).toBe(false);
    expect(optIn.sameAnswer(answer(200, { userId: '5', state: 'eligible' }), answer(200, { userId: '6', state: 'eligible' }))).toBe(false);
  });
});
