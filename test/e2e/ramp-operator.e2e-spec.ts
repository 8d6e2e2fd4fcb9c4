import type { INestApplicationContext } from '@nestjs/common';
import { RampControllerService } from '../../src/rollout/campaigns/ramp-controller.service';
import { FakeClock } from '../../src/core/clock/clock';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, bindClock, etagOf, rampAction, rampOf, setPlan } from './ramp.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 10_000;

/**
 * Operator actions and races, with ticks driven by hand (the scheduler fires hourly here):
 * two controllers racing advance a step once; a passed point of no return is protected;
 * lowering demotes only users nobody claimed.
 */
describe('ramp: operator actions, points of no return, racing controllers', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let workers: INestApplicationContext[];
  let db: TestDb;
  const clock = new FakeClock(Date.now());
  const tick = (i: number, id: string) => workers[i].get(RampControllerService).tick(BigInt(id));

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '1',
      MIGRATION_BATCH_SIZE: '1000',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      RAMP_TICK_INTERVAL_MS: '3600000',
      WORKER_CONCURRENCY: '2',
      DATABASE_POOL_SIZE: '5',
    });
    api = await startTestApi(env);
    workers = [await startTestWorker(env), await startTestWorker(env)];
    for (const app of [api.app, ...workers]) bindClock(app, clock);
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
  }, 120_000);

  afterAll(async () => {
    for (const w of workers ?? []) await w.close();
    await db?.close();
    await api?.close();
  });

  it('two controllers ticking at the same moment advance each step exactly once', async () => {
    await createFlag(api, 'race-flag', 0);
    const c = await createCampaign(api, { key: 'race', name: 'Race', flag: 'race-flag', populationFilter: { countries: ['ZZ'] } });
    await setPlan(api, c.id, { steps: [1, 2, 3, 4, 5].map((p) => ({ percent: p, holdMinutes: 1 })) });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitFor('materialised', () => db.query(`SELECT materialized_at FROM campaigns WHERE id = $1`, [c.id]), (r) => r[0].materialized_at !== null, 30_000);

    for (let step = 0; step < 5; step++) {
      if (step > 0) {
        await waitFor(`step ${step - 1} planned`, () => rampOf(api, c.id), (r) => r.plannedPpm >= (step * 10_000), 30_000, 100);
        clock.advance(60_000);
      }
      const results = await Promise.all([tick(0, c.id), tick(1, c.id), tick(0, c.id), tick(1, c.id)]);
      expect(results.filter((r) => r.advanced)).toHaveLength(1);
      expect((await rampOf(api, c.id)).currentStep).toBe(step);
    }
    const advances = await auditOf(api, c.id, 'campaign.ramp_advanced');
    expect(advances.map((a) => a.after.currentStep).sort()).toEqual([0, 1, 2, 3, 4]);
    const flag = (await api.request('GET', '/api/v1/flags/race-flag')).body;
    expect(flag.rolloutPpm).toBe(50_000);
  }, 120_000);

  it('answers operator mistakes with clear codes', async () => {
    await createFlag(api, 'err-flag', 0);
    const c = await createCampaign(api, { key: 'errs', name: 'Errors', flag: 'err-flag', populationFilter: { countries: ['ZZ'] } });
    expect((await rampAction(api, c.id, 'promote')).body.code).toBe('ramp.no_plan');
    const badPlan = await api.request('PUT', `/api/v1/campaigns/${c.id}/ramp`, { body: { steps: [{ percent: 5 }, { percent: 1 }] }, headers: { 'if-match': await etagOf(api, c.id) } });
    expect(badPlan.status).toBe(400);
    expect(badPlan.body.details).toEqual([{ field: 'body.steps.1.ppm', message: 'steps must strictly increase in ppm' }]);
    expect((await api.request('PUT', `/api/v1/campaigns/${c.id}/ramp`, { body: { steps: [{ percent: 1 }] } })).status).toBe(428);
    await setPlan(api, c.id, { steps: [{ percent: 1, holdMinutes: 60 }, { percent: 2, holdMinutes: 60, requiresApproval: true }, { percent: 3 }] });
    expect((await rampAction(api, c.id, 'promote')).body.code).toBe('ramp.not_active');
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitFor('materialised', () => db.query(`SELECT materialized_at FROM campaigns WHERE id = $1`, [c.id]), (r) => r[0].materialized_at !== null, 30_000);
    await tick(0, c.id);
    expect((await rampAction(api, c.id, 'promote')).body).toMatchObject({ code: 'ramp.approval_required', details: { steps: [1] } });
    expect((await rampAction(api, c.id, 'set-step', { step: 2 })).body).toMatchObject({ code: 'ramp.approval_required', details: { steps: [1] } });
    const changed = await api.request('PUT', `/api/v1/campaigns/${c.id}/ramp`, { body: { steps: [{ percent: 1.5 }, { percent: 2 }] }, headers: { 'if-match': await etagOf(api, c.id) } });
    expect(changed.body.code).toBe('ramp.passed_step_changed');
    expect((await rampAction(api, c.id, 'approve')).status).toBe(200);
    const again = await rampAction(api, c.id, 'approve');
    expect(again.status).toBe(200);
    expect(await auditOf(api, c.id, 'campaign.ramp_step_approved')).toHaveLength(1);
    expect((await rampAction(api, c.id, 'set-step', { step: 2 })).body.currentStep).toBe(2);
    expect((await rampAction(api, c.id, 'promote')).body.code).toBe('ramp.final_step');
    expect((await rampAction(api, c.id, 'approve')).body.code).toBe('ramp.final_step');
    expect((await rampAction(api, c.id, 'set-step', { step: 1 })).body.currentStep).toBe(1);
    expect((await rampAction(api, c.id, 'approve')).body.code).toBe('ramp.approval_not_required');
    const putRules = async (rules: unknown[]) =>
      api.request('PUT', `/api/v1/campaigns/${c.id}/guardrails`, { body: { rules, reason: 'tighter after review' }, headers: { 'if-match': await etagOf(api, c.id) } });
    const badRule = await putRules([{ metric: 'latency', threshold: 1, action: 'pause' }]);
    expect(badRule.status).toBe(400);
    expect(badRule.body.details[0].field).toBe('body.rules.0.metric');
    const rules = await putRules([{ metric: 'backend_p95_ms', threshold: 500, windowSeconds: 60, action: 'throttle' }]);
    expect(rules.status).toBe(200);
    expect(rules.body.guardrails).toEqual([{ metric: 'backend_p95_ms', threshold: 500, windowSeconds: 60, action: 'throttle', minSamples: 50 }]);
    expect(rules.body.steps).toHaveLength(3);
    expect(await auditOf(api, c.id, 'campaign.guardrails_set')).toEqual([expect.objectContaining({ reason: 'tighter after review' })]);
    const halted = await rampAction(api, c.id, 'halt', { reason: 'testing the alias' });
    expect(halted.body.status).toBe('halted');
    expect(await auditOf(api, c.id, 'campaign.halted')).toHaveLength(1);
  }, 60_000);

  it('protects a passed point of no return and, lowering, demotes only unclaimed users', async () => {
    await createFlag(api, 'ponr-flag', 0);
    const c = await createCampaign(api, { key: 'ponr', name: 'PONR', flag: 'ponr-flag', pacing: { maxUsersPerSecond: 400 } });
    await setPlan(api, c.id, { steps: [{ percent: 1, holdMinutes: 60 }, { percent: 50, holdMinutes: 60, pointOfNoReturn: true }, { percent: 100 }] });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitFor('materialised', () => db.query(`SELECT materialized_at FROM campaigns WHERE id = $1`, [c.id]), (r) => r[0].materialized_at !== null, 30_000);
    await tick(0, c.id);
    expect((await rampOf(api, c.id)).currentStep).toBe(0);

    // promote skips the hold (operator's call), audited
    const promoted = await rampAction(api, c.id, 'promote', { reason: 'step 0 looked fine' });
    expect(promoted.status).toBe(200);
    expect(promoted.body.currentStep).toBe(1);
    await waitFor('step 1 planned', () => rampOf(api, c.id), (r) => r.plannedPpm >= 500_000, 30_000, 100);
    expect((await act(api, c.id, 'pause')).status).toBe(200);
    await waitFor('no batch running', () => db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status = 'running'`, [c.id]), (r) => r[0].n === 0, 30_000);
    const before = await db.truth(c.id);
    // planned but not claimed yet: range batches admit their users when they claim them
    const unclaimed = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND bucket >= 10000 AND state = 'legacy'`, [c.id]);
    expect(unclaimed[0].n).toBeGreaterThan(0);
    const enabledBefore = await db.query(`SELECT user_id FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled'`, [c.id]);

    const operator = await api.newKey('operator');
    const denied = await rampAction(api, c.id, 'set-step', { step: 0, reason: 'too fast' }, operator);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('ramp.point_of_no_return');
    const noReason = await rampAction(api, c.id, 'set-step', { step: 0 });
    expect(noReason.status).toBe(409);
    expect(noReason.body.code).toBe('ramp.point_of_no_return_reason_required');
    expect((await rampAction(api, c.id, 'set-step', { step: 'one' })).body.details).toEqual([{ field: 'body.step', message: expect.any(String) }]);
    expect((await rampAction(api, c.id, 'set-step', { step: 7, reason: 'nope' })).body.code).toBe('ramp.step_out_of_range');
    const stale = await api.request('POST', `/api/v1/campaigns/${c.id}/ramp/set-step`, { body: { step: 0, reason: 'x'.repeat(5) }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('campaign.version_conflict');

    const lowered = await rampAction(api, c.id, 'set-step', { step: 0, reason: 'regulator asked to slow down' });
    expect(lowered.status).toBe(200);
    expect(lowered.body.currentStep).toBe(0);
    expect((await api.request('GET', '/api/v1/flags/ponr-flag')).body.rolloutPpm).toBe(10_000);

    const after = await db.truth(c.id);
    const aboveCeiling = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND bucket >= 10000 AND state IN ('eligible', 'ineligible')`, [c.id]);
    expect(aboveCeiling[0].n).toBe(0);
    const stillEnabled = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' AND user_id = ANY($2::bigint[])`, [c.id, enabledBefore.map((r) => r.user_id)]);
    expect(stillEnabled[0].n).toBe(enabledBefore.length);
    expect(after.enabled).toBe(before.enabled);
    expect(after.legacy).toBe((before.legacy ?? 0) + (before.eligible ?? 0) + (before.ineligible ?? 0) - (after.eligible ?? 0) - (after.ineligible ?? 0));
    expect(await db.counters(c.id)).toMatchObject({ legacy: after.legacy ?? 0, eligible: after.eligible ?? 0, ineligible: after.ineligible ?? 0, enabled: after.enabled ?? 0 });

    const [audit] = await auditOf(api, c.id, 'campaign.ramp_step_set');
    expect(audit).toMatchObject({ reason: 'regulator asked to slow down', before: { currentStep: 1, ppm: 500_000 }, after: { currentStep: 0, ppm: 10_000 } });
    expect(audit.after.demoted).toEqual(expect.objectContaining({ demotedEligible: expect.any(Number), demotedIneligible: expect.any(Number) }));
    expect(await auditOf(api, c.id, 'campaign.ramp_promoted')).toHaveLength(1);

    // resumed, the batches planned for step 1 run and admit nobody above the lowered ceiling
    expect((await act(api, c.id, 'resume')).status).toBe(200);
    await waitFor(
      'planned batches drained',
      () => db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status IN ('queued', 'running')`, [c.id]),
      (r) => r[0].n === 0,
      60_000,
    );
    const admittedAbove = await db.query(
      `SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND bucket >= 10000 AND (state IN ('eligible', 'ineligible', 'enrolling') OR (state = 'enabled' AND NOT user_id = ANY($2::bigint[])))`,
      [c.id, enabledBefore.map((r) => r.user_id)],
    );
    expect(admittedAbove[0].n).toBe(0);

    // a repeated set-step to the current step changes nothing
    const v = await etagOf(api, c.id);
    expect((await rampAction(api, c.id, 'set-step', { step: 0 })).status).toBe(200);
    expect(await etagOf(api, c.id)).toBe(v);
  }, 120_000);
});
