import type { INestApplicationContext } from '@nestjs/common';
import { FakeClock } from '../../src/core/clock/clock';
import { metricsRegistry } from '../../src/core/metrics/metrics';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, bindClock, rampOf, setPlan, waitRampWait } from './ramp.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

/**
 * Guardrails against the simulated backend failing 20% of users permanently: a pause rule
 * pauses the campaign through the lifecycle, audited with the measured values; a throttle
 * rule slows the pace (AIMD) and clears by itself once the window is healthy again.
 */
describe('ramp guardrails', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '1',
      BACKEND_SIM_PERMANENT_FAILURE_RATIO: '0.2',
      MIGRATION_BATCH_SIZE: '100',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      RAMP_TICK_INTERVAL_MS: '150',
      RAMP_PACE_MIN_USERS_PER_SECOND: '300',
      RAMP_PACE_CEILING_USERS_PER_SECOND: '1000000',
      WORKER_CONCURRENCY: '2',
      DATABASE_POOL_SIZE: '5',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    for (const app of [api.app, worker]) bindClock(app, clock);
    db = await TestDb.connect(env);
    await db.seedUsers(5000);
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('a failure-ratio trip pauses the campaign, audited with the measured values', async () => {
    await createFlag(api, 'gr-flag', 0);
    const c = await createCampaign(api, { key: 'gr-pause', name: 'Guardrail pause', flag: 'gr-flag', populationFilter: { countries: ['DE'] } });
    await setPlan(api, c.id, { steps: [{ percent: 100 }], guardrails: [{ metric: 'failure_ratio', threshold: 0.1, windowSeconds: 300, action: 'pause', minSamples: 100 }] });
    expect((await act(api, c.id, 'start')).status).toBe(200);

    const paused = await waitFor('the guardrail to pause the campaign', () => api.request('GET', `/api/v1/campaigns/${c.id}`), (r) => r.body.status === 'paused', 60_000, 100);
    expect(paused.body.guardrailState).toMatchObject({ healthy: false, verdict: 'pause', trips: [{ metric: 'failure_ratio', threshold: 0.1, action: 'pause', value: expect.any(Number) }] });

    const [trip] = await auditOf(api, c.id, 'campaign.guardrail_tripped');
    expect(trip.actor).toMatchObject({ id: 'system', name: 'ramp-controller' });
    expect(trip.after.trip.value).toBeGreaterThan(0.1);
    expect(trip.after.windows['300']).toMatchObject({ failed: expect.any(Number), enabled: expect.any(Number) });
    expect(trip.after.windows['300'].failed / (trip.after.windows['300'].failed + trip.after.windows['300'].enabled)).toBeCloseTo(trip.after.trip.value, 6);
    expect(trip.reason).toMatch(/^failure_ratio 0\.\d+ > 0\.1 over 300s → pause$/);
    const [pause] = await auditOf(api, c.id, 'campaign.paused');
    expect(pause).toMatchObject({ actor: { name: 'ramp-controller' }, reason: expect.stringContaining('failure_ratio') });

    const [metric] = (await metricsRegistry.getSingleMetric('cutover_guardrail_trips_total')!.get()).values.filter((v) => v.labels.campaign === 'gr-pause');
    expect(metric).toMatchObject({ value: 1, labels: { metric: 'failure_ratio', action: 'pause' } });

    // paused: a tick after the pause waits without checking the guardrails again, so nothing is re-audited
    await waitRampWait(api, c.id, 'a tick that sees the campaign paused', (w) => w?.reason === 'not_running');
    expect(await auditOf(api, c.id, 'campaign.guardrail_tripped')).toHaveLength(1);
  }, 90_000);

  it('a throttle trip slows the pace and clears by itself when the window is healthy', async () => {
    // stays running once everyone is processed, so that the pace can be watched recovering
    const c = await createCampaign(api, { key: 'gr-throttle', name: 'Guardrail throttle', flag: 'gr-flag', populationFilter: { countries: ['US'] }, pacing: { maxUsersPerSecond: 4000 }, autoComplete: false });
    await setPlan(api, c.id, { steps: [{ percent: 100 }], guardrails: [{ metric: 'failure_ratio', threshold: 0.1, windowSeconds: 10, action: 'throttle', minSamples: 50 }] });
    expect((await act(api, c.id, 'start')).status).toBe(200);

    const throttled = await waitFor('a throttle', () => rampOf(api, c.id), (r) => r.guardrailState.throttled === true, 60_000, 50);
    expect(throttled.paceUsersPerSecond).toBeLessThan(4000);
    expect(throttled.status).toBe('running');
    const cleared = await waitFor('the throttle to clear', () => rampOf(api, c.id), (r) => r.guardrailState.throttled === false && r.guardrailState.healthy === true, 60_000, 200);
    expect(cleared.status).toBe('running');
    const trips = await auditOf(api, c.id, 'campaign.guardrail_tripped');
    expect(trips.length).toBeGreaterThanOrEqual(1);
    expect(trips.every((t) => t.after.trip.action === 'throttle')).toBe(true);
    expect((await auditOf(api, c.id, 'campaign.guardrail_cleared')).length).toBeGreaterThanOrEqual(1);
    await waitFor('the pace to recover', () => rampOf(api, c.id), (r) => r.paceUsersPerSecond === 4000, 30_000, 100);
    const k = await db.counters(c.id);
    expect(k.enabled + k.failed + k.ineligible).toBe(1000);
  }, 120_000);
});
