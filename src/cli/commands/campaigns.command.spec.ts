import { renderProgress, sseEvents, type ProgressDoc } from './campaigns.command';

const doc = (over: Partial<ProgressDoc> = {}): ProgressDoc => ({
  campaign: { id: '1', key: 'm1', name: 'Messenger', status: 'running', version: 3 },
  at: '2026-11-26T12:00:00.000Z',
  counts: { legacy: 0, ineligible: 100, eligible: 200, enrolling: 50, enabled: 600, failed: 50, held: 0, total: 1000 },
  enabledShare: 0.6,
  throughput: { perSecond1m: 12.5, perSecond5m: 1500 },
  eta: { remainingUsers: 300, seconds: 24, at: null, reason: null, rate: null },
  conversations: { enabledShare: 0.6, oneToOne: 0.36, groups: [{ participants: 3, share: 0.216 }, { participants: 5, share: 0.6 ** 5 }] },
  failures: { ratio: 50 / 650 },
  backlog: { batches: 3, oldestQueuedAgeSeconds: 2 },
  ramp: { currentStep: 1, steps: [{}, {}, {}], holdRemainingSeconds: 600, awaitingApproval: false },
  halt: { reason: null, haltToLastCommitMs: null },
  ...over,
});

describe('campaign watch rendering', () => {
  it('draws one bar per state, proportional to its share of users', () => {
    const text = renderProgress(doc());
    expect(text.split('\n')[0]).toBe('Messenger (m1) — RUNNING — step 2 of 3, hold 10m00s left');
    expect(text).toContain(`  enabled    ${'█'.repeat(19)}${'░'.repeat(13)} 600   60.0%`);
    expect(text).toContain(`  legacy     ${'░'.repeat(32)}   0    0.0%`);
    expect(text).toContain('throughput 12.5/s (5m 1,500/s)  ETA 24s  failures 7.7%  backlog 3 batches');
  });

  it('says when the ramp has not started and when nothing is left', () => {
    const text = renderProgress(doc({ ramp: { currentStep: -1, steps: [], holdRemainingSeconds: null, awaitingApproval: false }, eta: { remainingUsers: 0, seconds: 0, at: null, reason: null, rate: null } }));
    expect(text).toContain('ramp not started');
    expect(text).toContain('ETA done');
  });

  it('shows no throughput or ETA for a halted or paused campaign', () => {
    for (const status of ['halted', 'paused']) {
      const text = renderProgress(doc({ campaign: { id: '1', key: 'm1', name: 'Messenger', status, version: 4 } }));
      expect(text).toContain(`  enabled 60.0%  ${status}: no throughput or ETA  failures 7.7%  backlog 3 batches`);
      expect(text).not.toMatch(/ETA \d|\/s/);
    }
  });

  it('names the rate the ETA comes from, and the conversation coverage with its model', () => {
    const text = renderProgress(doc({ eta: { remainingUsers: 300, seconds: 150, at: null, reason: null, rate: { usersPerSecond: 2000, source: 'max_pace' } } }));
    expect(text).toContain('ETA 2m30s at 2,000/s (configured maximum)');
    expect(text).toContain('  conversations all enabled (estimate, random participants, p^k): 1:1 36.0%; groups of 3: 21.6%, 5: 7.8%');
    const noPace = renderProgress(doc({ eta: { remainingUsers: 300, seconds: null, at: null, reason: 'no_pace', rate: null } }));
    expect(noPace).toContain('ETA - (no pace configured and no ramp batch measured yet)');
  });

  it('writes a hold that rounds up to a day as a day', () => {
    const text = renderProgress(doc({ ramp: { currentStep: 0, steps: [{}, {}], holdRemainingSeconds: 86_399, awaitingApproval: false } }));
    expect(text.split('\n')[0]).toBe('Messenger (m1) — RUNNING — step 1 of 2, hold 1d left');
  });

  it('parses server-sent events split across chunks, skipping comments', async () => {
    const enc = new TextEncoder();
    const chunks = ['retry: 3000\n\nevent: progress\nda', 'ta: {"a":1}\n\n: heartbeat\n\nevent: progress\ndata: {"a":2}\n\n'];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(enc.encode(ch));
        c.close();
      },
    });
    const events = [];
    for await (const e of sseEvents(body)) events.push(e);
    expect(events).toEqual([{ event: 'progress', data: '{"a":1}' }, { event: 'progress', data: '{"a":2}' }]);
  });
});
