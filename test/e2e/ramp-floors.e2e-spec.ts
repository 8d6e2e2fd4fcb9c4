import type { INestApplicationContext } from '@nestjs/common';
import { FakeClock } from '../../src/core/clock/clock';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { cliEnv, runCli } from '../support/cli';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, bindClock, rampOf, setPlan, waitRampWait, waitStepSettled } from './ramp.helpers';

const USERS = 4000;
const MINUTE = 60_000;

/** NDJSON lines that make the given users E2EE-capable (their other attributes as seeded). */
function capableLines(ids: number[]): string {
  return ids
    .map((id) => JSON.stringify({ id: String(id), country: ['US', 'DE', 'BR', 'IN', 'FR'][id % 5], platform: ['ios', 'android', 'web'][id % 3], appVersion: '5.2.0', e2eeCapable: true }))
    .join('\n');
}

/**
 * A capability floor on the last step holds the ramp until enough of that step's users can do
 * E2EE; users become capable through the import; the step then starts and the campaign completes.
 */
describe('ramp: a capability floor holds a step until enough users are capable', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    const env = await createTestEnvironment({
      BACKEND_SIM_LATENCY_MS: '1',
      MIGRATION_BATCH_SIZE: '500',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      RAMP_TICK_INTERVAL_MS: '150',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    for (const app of [api.app, worker]) bindClock(app, clock);
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
    // a quarter of the population cannot do E2EE on every device yet
    await db.query('UPDATE users SET e2ee_capable = (id % 4 <> 0)');
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  const importCapable = async (ids: number[]) => {
    const r = await api.request('POST', '/api/v1/users/import', { rawBody: capableLines(ids), headers: { 'content-type': 'application/x-ndjson' } });
    expect([r.status, r.body.updated]).toEqual([200, ids.length]);
  };
  const explain = async (id: string) => (await api.request('GET', `/api/v1/campaigns/${id}/explain`)).body;

  it('rejects a floor outside (0, 100]', async () => {
    await createFlag(api, 'e2ee-floor-bad', 0);
    const c = await createCampaign(api, { key: 'floor-bad', name: 'Bad floor', flag: 'e2ee-floor-bad' });
    const cur = await api.request('GET', `/api/v1/campaigns/${c.id}`);
    const r = await api.request('PUT', `/api/v1/campaigns/${c.id}/ramp`, { body: { steps: [{ percent: 100, minCapablePercent: 150 }] }, headers: { 'if-match': cur.headers.get('etag')! } });
    expect([r.status, r.body.code, r.body.details[0].field]).toEqual([400, 'request.validation_failed', 'body.steps.0.minCapablePercent']);
  });

  it('holds step 2 at its 90% floor, explains it, and starts it once the import makes enough users capable', async () => {
    await createFlag(api, 'e2ee-floor', 0);
    const c = await createCampaign(api, { key: 'floors', name: 'Floors', flag: 'e2ee-floor', pacing: { maxUsersPerSecond: 2000 } });
    const plan = await setPlan(api, c.id, { steps: [{ percent: 10, holdMinutes: 10 }, { percent: 100, minCapablePercent: 90 }] });
    expect(plan.steps[1]).toEqual({ ppm: 1_000_000, holdMinutes: 0, requiresApproval: false, pointOfNoReturn: false, minCapablePercent: 90 });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitStepSettled(api, db, c.id, 0);
    clock.advance(10 * MINUTE);

    const wait = await waitRampWait(api, c.id, 'the floor to hold step 2', (w) => w?.reason === 'capability_floor');
    expect(wait.guardrailState.rampWait.detail).toMatch(/^step 2 of 2 needs 90% of its users E2EE-capable; 75\.0% are \(3000 of 4000\)$/);
    const held = await explain(c.id);
    expect(held).toMatchObject({ status: 'running', currentStep: 0, nextStep: 1, heldByFloor: { step: 1, minCapablePercent: 90, capable: 3000, users: 4000, met: false, usersNeeded: 600 } });
    expect(held.why).toContain('Step 2 of 2 is held by its capability floor: it needs 90% of its users E2EE-capable; 75.0% are (3000 of 4000)');
    const cli = await runCli(['campaign', 'explain', 'floors'], cliEnv(api, await api.newKey('viewer')));
    expect([cli.code, cli.stdout]).toEqual([0, expect.stringContaining('floor of step 2')]);
    expect(cli.stdout).toMatch(/≥ 90% capable: 75\.0% \(3,000 of 4,000\), not met/);
    const forecast = (await api.request('GET', `/api/v1/campaigns/${c.id}/forecast`)).body;
    expect(forecast).toMatchObject({ targetStep: 1, capabilityFloor: { met: false, usersNeeded: 600, forecast: { model: expect.stringContaining('24 hours') } } });
    // a pace-based ETA while running (the pace is at most the configured 2,000 users/s) …
    expect(forecast).toMatchObject({ status: 'running', etaReason: null, rate: { source: expect.stringMatching(/^(ramp_throughput|pace|max_pace)$/) } });
    expect(forecast.rate.usersPerSecond).toBeLessThanOrEqual(2000);
    expect(forecast.etaSeconds).toBe(Math.ceil(forecast.newlyAdmitted.eligible / forecast.rate.usersPerSecond));
    // … and none while paused or halted
    for (const [action, body, status] of [['pause', {}, 'paused'], ['halt', { reason: 'checking the forecast' }, 'halted']] as const) {
      expect((await act(api, c.id, action, body)).body.status).toBe(status);
      const still = (await api.request('GET', `/api/v1/campaigns/${c.id}/forecast`)).body;
      expect(still).toMatchObject({ status, etaSeconds: null, etaAt: null, etaReason: status });
      expect((await api.request('GET', `/api/v1/campaigns/${c.id}/progress`)).body.eta).toMatchObject({ seconds: null, reason: status });
    }
    expect((await act(api, c.id, 'resume', { reason: 'forecast checked' })).body.status).toBe('running');

    // half of the incapable users become capable: 87.5%, still below the floor
    const incapable = Array.from({ length: USERS / 4 }, (_, i) => 4 * (i + 1));
    await importCapable(incapable.filter((id) => id % 8 === 0));
    await waitFor('the histogram to count them', () => explain(c.id), (e) => e.heldByFloor?.capable === 3500, 30_000, 100);
    expect((await rampOf(api, c.id)).currentStep).toBe(0);

    await importCapable(incapable.filter((id) => id % 8 === 4));
    await waitFor('step 2 to start', () => rampOf(api, c.id), (r) => r.currentStep === 1, 30_000, 100);
    const [advanced] = await auditOf(api, c.id, 'campaign.ramp_advanced').then((a) => a.filter((e) => e.after.currentStep === 1));
    expect(advanced.actor.name).toBe('ramp-controller');
    await waitFor('the campaign to complete', () => api.request('GET', `/api/v1/campaigns/${c.id}`), (r) => r.body.status === 'completed', 60_000, 150);
    expect(await db.counters(c.id)).toMatchObject({ enabled: USERS, ineligible: 0, legacy: 0 });
    const done = await explain(c.id);
    expect(done).toMatchObject({ status: 'completed', heldByFloor: null, floors: [{ step: 1, met: true, capablePercent: 100 }] });
  }, 180_000);
});
