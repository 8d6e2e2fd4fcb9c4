import { ProgressStreamHub } from '../../src/progress/progress-stream.hub';
import { startTestApi, type TestApi } from '../support/app';
import { ProgressFixtures } from './progress.fixtures';

const MIN = 60_000;

/** Reads server-sent events from a fetch body until `until` returns true for an event. */
async function readEvents(res: Response, until: (events: Array<{ event: string; data: any }>) => boolean) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ event: string; data: any }> = [];
  let buffer = '';
  let raw = '';
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    raw += text;
    buffer += text;
    let i: number;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const chunk = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const event = /^event: (.*)$/m.exec(chunk)?.[1];
      const data = /^data: (.*)$/m.exec(chunk)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
  }
  return { events, raw, reader };
}

describe('progress API: counts, rates, backlog, history, stream and metrics', () => {
  let api: TestApi;
  let fx: ProgressFixtures;
  let viewer: string;

  beforeAll(async () => {
    api = await startTestApi();
    fx = new ProgressFixtures(api.env.config.database.url);
    viewer = await api.newKey('viewer');
  });
  afterAll(async () => {
    await fx.close();
    await api.close();
  });

  it('sums the 16 counter shards and reports share, backlog, failures, recovery, ramp and halt', async () => {
    const now = Date.now();
    const c = await fx.campaign({
      status: 'halted',
      populationSize: 1000,
      admittedPpm: 2500,
      paceUsersPerSecond: 300,
      rampPlan: [
        { ppm: 1000, holdMinutes: 10, requiresApproval: false, pointOfNoReturn: false },
        { ppm: 2500, holdMinutes: 60, requiresApproval: false, pointOfNoReturn: false },
        { ppm: 10000, holdMinutes: 60, requiresApproval: true, pointOfNoReturn: true },
      ],
      currentStep: 1,
      stepEnteredAt: new Date(now - 30 * MIN),
      guardrailState: { healthy: false, throttled: true, trips: [{ metric: 'failure_ratio', value: 0.2 }] },
      haltedAt: new Date(now - MIN),
      haltReason: 'backend incident',
      haltToLastCommitMs: 420,
    });
    await fx.addCounters(c.id, { legacy: 500, eligible: 200 });
    await fx.addCounters(c.id, { legacy: -100, enabled: 150, recoveryPrompted: 40 });
    await fx.addCounters(c.id, { eligible: -50, enabled: 50, failed: 25, ineligible: 100, held: 25, recoveryPin: 30, recoveryCloud: 10 });
    await fx.batch(c.id, { status: 'queued', queuedAt: new Date(now - 90_000) });
    await fx.batch(c.id, { status: 'queued', queuedAt: new Date(now - 10_000) });
    await fx.batch(c.id, { status: 'running' });
    await fx.batch(c.id, { status: 'done', finishedAt: new Date(now - MIN), claimed: 100, enabled: 80, failed: 20, backendErrors: 3 });
    await fx.batch(c.id, { status: 'done', finishedAt: new Date(now - 20 * MIN), claimed: 100, failed: 100 });
    await fx.histogram(c.id, [{ bin: 0, total: 10, capable: 8 }, { bin: 1, total: 20, capable: 10 }, { bin: 2, total: 40, capable: 40 }, { bin: 3, total: 99, capable: 99 }]);

    const r = await api.request('GET', `/api/v1/campaigns/${c.key}/progress`, { key: viewer });
    expect(r.status).toBe(200);
    const p = r.body;
    expect(p.campaign).toMatchObject({ id: c.id.toString(), key: c.key, status: 'halted' });
    expect(p.counts).toEqual({ legacy: 400, ineligible: 100, eligible: 150, enrolling: 0, enabled: 200, failed: 25, held: 25, total: 900 });
    expect(p.enabledShare).toBeCloseTo(0.2);
    expect(p.admission).toEqual({ admittedPpm: 2500, plannedPpm: 0, admittedUsers: 50, admittedCapableUsers: 38 });
    expect(p.backlog).toMatchObject({ batches: 3, queued: 2, running: 1 });
    expect(p.backlog.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(p.failures.ratio).toBeCloseTo(25 / 225);
    expect(p.failures).toMatchObject({ recentRatio5m: 0.2, recentBackendErrors5m: 3 });
    expect(p.recovery).toMatchObject({ prompted: 40, pin: 30, cloudBackup: 10, adoption: 0.2 });
    expect(p.ramp).toMatchObject({ currentStep: 1, awaitingApproval: false });
    expect(p.ramp.steps).toHaveLength(3);
    expect(p.ramp.holdRemainingSeconds).toBeGreaterThan(29 * 60 - 5);
    expect(p.ramp.holdRemainingSeconds).toBeLessThanOrEqual(30 * 60);
    expect(p.guardrails.state).toMatchObject({ throttled: true });
    expect(p.pace).toEqual({ usersPerSecond: 300, maxUsersPerSecond: 5000 });
    expect(p.halt).toMatchObject({ reason: 'backend incident', haltToLastCommitMs: 420 });
    expect(p.eta.remainingUsers).toBe(400 + 150 + 25);

    const byId = await api.request('GET', `/api/v1/campaigns/${c.id}/progress`, { key: viewer });
    expect(byId.body.counts).toEqual(p.counts);
  });

  it('measures throughput over 1 and 5 minutes from samples, and takes the ETA from the pace, not from that throughput', async () => {
    const now = Date.now();
    const c = await fx.campaign({ status: 'running' });
    await fx.addCounters(c.id, { enabled: 6000, eligible: 6000 });
    await fx.sample(c.id, new Date(now - 6 * MIN), { enabled: 0 });
    await fx.sample(c.id, new Date(now - 5 * MIN), { enabled: 0 });
    await fx.sample(c.id, new Date(now - 2 * MIN), { enabled: 4800 });
    await fx.sample(c.id, new Date(now - 10_000), { enabled: 5900 });
    const p = (await api.request('GET', `/api/v1/campaigns/${c.key}/progress`, { key: viewer })).body;
    // 1 min: from the sample 2 minutes ago (the newest one at least a minute old)
    expect(p.throughput.perSecond1m).toBeCloseTo(1200 / 120, 0);
    expect(p.throughput.perSecond5m).toBeCloseTo(6000 / 300, 0);
    // 6,000 eligible users at the configured maximum of 5,000/s (no ramp batch measured yet)
    expect(p.eta).toMatchObject({ remainingUsers: 6000, toProcess: 6000, seconds: 2, reason: null, rate: { usersPerSecond: 5000, source: 'max_pace' } });

    // two overlapping ramp batches ran 3 s in all and processed 3,000 users: 1,000/s; an opt-in batch does not count
    await fx.batch(c.id, { status: 'done', startedAt: new Date(now - 10_000), finishedAt: new Date(now - 8_000), claimed: 2000, enabled: 1900, failed: 100 });
    await fx.batch(c.id, { status: 'done', startedAt: new Date(now - 9_000), finishedAt: new Date(now - 7_000), claimed: 1000, enabled: 1000 });
    await fx.prisma.migrationBatch.create({ data: { campaignId: c.id, fromBucket: 0, toBucket: 0, userIds: [7n], status: 'done', startedAt: new Date(now - 60_000), finishedAt: new Date(now - 59_999), claimed: 1, enabled: 1 } });
    const measured = (await api.request('GET', `/api/v1/campaigns/${c.key}/progress`, { key: viewer })).body;
    expect(measured.eta).toMatchObject({ seconds: 6, rate: { usersPerSecond: 1000, source: 'ramp_throughput' } });

    const paused = await fx.campaign({ status: 'paused' });
    await fx.addCounters(paused.id, { eligible: 6000 });
    expect((await api.request('GET', `/api/v1/campaigns/${paused.key}/progress`, { key: viewer })).body.eta).toMatchObject({ seconds: null, at: null, reason: 'paused' });
  });

  it('answers 404 for an unknown campaign, 400 naming the field for a bad one, 401 without a key', async () => {
    expect((await api.request('GET', '/api/v1/campaigns/no-such-campaign/progress')).body).toMatchObject({ code: 'campaign.not_found' });
    expect((await api.request('GET', '/api/v1/campaigns/999999/progress')).status).toBe(404);
    const bad = await api.request('GET', '/api/v1/campaigns/Bad%20Key!/progress');
    expect(bad.status).toBe(400);
    expect(bad.body.details[0].field).toBe('params.id');
    expect((await api.request('GET', '/api/v1/campaigns/x/progress', { key: null })).status).toBe(401);
    const c = await fx.campaign();
    const badQuery = await api.request('GET', `/api/v1/campaigns/${c.key}/progress/history?resolution=week&since=yesterday`);
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['query.resolution', 'query.since']);
  });

  it('returns history per resolution, oldest first, and all resolutions together by default', async () => {
    const now = Date.now();
    const c = await fx.campaign();
    await fx.sample(c.id, new Date(now - 3 * 3_600_000), { enabled: 10 }, { resolution: 'hour' });
    await fx.sample(c.id, new Date(now - 2 * 3_600_000), { enabled: 20 }, { resolution: 'minute' });
    await fx.sample(c.id, new Date(now - 10 * MIN), { enabled: 30, failed: 1 }, { throughputPerSecond: 2.5 });
    await fx.sample(c.id, new Date(now - 5 * MIN), { enabled: 40 });
    const since = new Date(now - 4 * 3_600_000).toISOString();
    const mixed = await api.request('GET', `/api/v1/campaigns/${c.key}/progress/history?since=${since}`, { key: viewer });
    expect(mixed.status).toBe(200);
    expect(mixed.body.points.map((x: { counts: { enabled: number } }) => x.counts.enabled)).toEqual([10, 20, 30, 40]);
    expect(mixed.body.points[2]).toMatchObject({ resolution: 'raw', throughputPerSecond: 2.5, counts: { failed: 1, total: 31 } });
    const raw = await api.request('GET', `/api/v1/campaigns/${c.key}/progress/history?resolution=raw`, { key: viewer });
    expect(raw.body.points.map((x: { at: string }) => x.at)).toEqual([new Date(now - 10 * MIN).toISOString(), new Date(now - 5 * MIN).toISOString()]);
    const limited = await api.request('GET', `/api/v1/campaigns/${c.key}/progress/history?since=${since}&limit=2`, { key: viewer });
    expect(limited.body.points.map((x: { counts: { enabled: number } }) => x.counts.enabled)).toEqual([30, 40]);
  });

  it('lists campaigns with their counts, newest first, by keyset', async () => {
    const a = await fx.campaign();
    const b = await fx.campaign();
    await fx.addCounters(b.id, { enabled: 3, legacy: 1 });
    const page = await api.request('GET', '/api/v1/progress/campaigns?limit=1', { key: viewer });
    expect(page.body).toMatchObject({ items: expect.any(Array) });
    expect(page.body.items).toHaveLength(1);
    expect(page.body.items[0]).toMatchObject({ key: b.key, counts: { enabled: 3, total: 4 }, enabledShare: 0.75 });
    const next = await api.request('GET', `/api/v1/progress/campaigns?limit=1&cursor=${page.body.nextCursor}`, { key: viewer });
    expect(next.body.items[0].key).toBe(a.key);
  });

  it('streams progress as server-sent events and lets go of the client when it disconnects', async () => {
    const c = await fx.campaign({ status: 'running' });
    const hub = api.app.get(ProgressStreamHub);
    const ctrl = new AbortController();
    const res = await fetch(`${api.url}/api/v1/campaigns/${c.key}/progress/stream`, { headers: { authorization: `Bearer ${viewer}` }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = await readEvents(res, (e) => e.length >= 1);
    expect(first.events[0].data.counts.enabled).toBe(0);
    expect(first.raw).toContain('retry: 3000');
    expect(hub.subscriberCount(c.id)).toBe(1);
    first.reader.releaseLock();
    await fx.addCounters(c.id, { enabled: 7 });
    const later = await readEvents(res, (e) => e.some((x) => x.data.counts.enabled === 7));
    expect(later.events.at(-1)!.data.campaign.key).toBe(c.key);
    ctrl.abort();
    await later.reader.cancel().catch(() => undefined);
    while (hub.subscriberCount(c.id) > 0) await new Promise((r) => setImmediate(r));
    expect(hub.subscriberCount()).toBe(0);
  });

  it('needs a key for the stream and answers 404 before streaming for an unknown campaign', async () => {
    expect((await fetch(`${api.url}/api/v1/campaigns/x/progress/stream`)).status).toBe(401);
    const res = await fetch(`${api.url}/api/v1/campaigns/no-such/progress/stream`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'campaign.not_found' });
  });

  it('serves Prometheus metrics without a key, with users per state from the counters', async () => {
    const c = await fx.campaign({ status: 'running', currentStep: 2, paceUsersPerSecond: 750, admittedPpm: 25_000, guardrailState: { verdict: 'throttle' } });
    const halted = await fx.campaign({ status: 'halted', haltedAt: new Date(), haltReason: 'test' });
    await fx.addCounters(c.id, { enabled: 123, failed: 4 });
    const r = await fetch(`${api.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    expect(text).toContain(`cutover_users{campaign="${c.key}",state="enabled"} 123`);
    expect(text).toContain(`cutover_users{campaign="${c.key}",state="failed"} 4`);
    expect(text).toContain(`cutover_ramp_step{campaign="${c.key}"} 2`);
    expect(text).toContain(`cutover_pace_users_per_second{campaign="${c.key}"} 750`);
    expect(text).toMatch(/cutover_queue_depth\{queue="migration",state="waiting"\} 0/);
    expect(text).toMatch(/cutover_queue_oldest_waiting_age_seconds\{queue="migration"\} 0/);
    expect(text).toContain(`cutover_campaign_status{campaign="${c.key}",status="running"} 1`);
    expect(text).toContain(`cutover_campaign_status{campaign="${c.key}",status="halted"} 0`);
    expect(text).toContain(`cutover_campaign_status{campaign="${halted.key}",status="halted"} 1`);
    expect(text).toContain(`cutover_guardrail_verdict{campaign="${c.key}",verdict="throttle"} 1`);
    expect(text).toContain(`cutover_guardrail_verdict{campaign="${halted.key}",verdict="ok"} 1`);
    expect(text).toContain(`cutover_campaign_admitted_ppm{campaign="${c.key}"} 25000`);
    // the progress document's own figures, for running campaigns only
    expect(text).toContain(`cutover_campaign_backlog_batches{campaign="${c.key}"} 0`);
    expect(text).not.toContain(`cutover_campaign_backlog_batches{campaign="${halted.key}"}`);
    expect(text).toContain('cutover_dependency_up{dependency="postgres"} 1');
    expect(text).toContain('cutover_dependency_up{dependency="redis"} 1');
    for (const name of ['cutover_evaluations_total', 'cutover_batch_duration_seconds', 'cutover_backend_latency_seconds', 'cutover_backend_errors_total', 'cutover_guardrail_trips_total', 'cutover_users_enabled_total', 'cutover_counter_drift_total']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('tells a key its own role', async () => {
    expect((await api.request('GET', '/api/v1/keys/me', { key: viewer })).body).toMatchObject({ role: 'viewer', name: 'test viewer' });
    expect((await api.request('GET', '/api/v1/keys/me')).body).toMatchObject({ role: 'admin' });
    expect((await api.request('GET', '/api/v1/keys/me', { key: null })).status).toBe(401);
  });
});
