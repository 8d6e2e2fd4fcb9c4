import type { INestApplicationContext } from '@nestjs/common';
import { FakeClock } from '../../src/core/clock/clock';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, bindClock, holdLeftSeconds, rampAction, rampOf, setPlan, waitRampWait, waitStepSettled } from './ramp.helpers';
import { TestDb } from '../support/test-db';

const USERS = 50_000;
const HOUR = 3_600_000;
const PLAN = [
  { percent: 0.01, holdMinutes: 60 },
  { percent: 1, holdMinutes: 60 },
  { percent: 5, holdMinutes: 60 },
  { percent: 25, holdMinutes: 60, requiresApproval: true },
  { percent: 50, holdMinutes: 60, pointOfNoReturn: true },
  { percent: 100, holdMinutes: 0 },
];
const PPM = [100, 10_000, 50_000, 250_000, 500_000, 1_000_000];

/**
 * The proof of the ramp on a fake clock: two worker replicas, the simulated backend, 50k
 * users, a ramp from 0.01% to 100% whose hours pass in milliseconds.
 */
describe('ramp: a full default-on ramp on a fake clock, two worker replicas', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let workers: INestApplicationContext[];
  let db: TestDb;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '1',
      MIGRATION_BATCH_SIZE: '1000',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      MIGRATION_BACKLOG_BATCHES: '16',
      RAMP_TICK_INTERVAL_MS: '150',
      RAMP_PACE_CEILING_USERS_PER_SECOND: '1000000',
      WORKER_CONCURRENCY: '4',
      DATABASE_POOL_SIZE: '6',
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

  it('steps 0.01% → 100% by itself, holds each step, waits for approval, and enables everyone admitted', async () => {
    await createFlag(api, 'e2ee-default', 0);
    const c = await createCampaign(api, { key: 'default-on', name: 'Default on', flag: 'e2ee-default' });
    const plan = await setPlan(api, c.id, { steps: PLAN, guardrails: [{ metric: 'failure_ratio', threshold: 0.5, windowSeconds: 300, action: 'pause' }] });
    expect(plan.steps.map((s: { ppm: number }) => s.ppm)).toEqual(PPM);
    expect((await act(api, c.id, 'start')).status).toBe(200);

    for (let step = 0; step < PLAN.length; step++) {
      await waitStepSettled(api, db, c.id, step);
      if (step === PLAN.length - 1) break;
      // the hold is measured on the injected clock: one minute short of it, a tick sees the
      // minute left and nothing moves
      clock.advance(HOUR - 60_000);
      await waitRampWait(api, c.id, `a tick that sees step ${step + 1}'s last minute`, (w) => w?.reason === 'hold' && holdLeftSeconds(w.detail) <= 60);
      expect((await rampOf(api, c.id)).currentStep).toBe(step);
      clock.advance(60_000);
      if (step + 1 === 3) {
        // the approval gate: the hold is over, the step still waits for an admin's approval
        await waitRampWait(api, c.id, 'a tick that waits for approval', (w) => w?.reason === 'approval');
        const waiting = await rampOf(api, c.id);
        expect(waiting).toMatchObject({ currentStep: 2, holdRemainingSeconds: 0, next: { step: 3, requiresApproval: true, awaitingApproval: true } });
        expect(waiting.guardrailState.rampWait).toMatchObject({ reason: 'approval' });
        const operator = await api.newKey('operator');
        expect((await rampAction(api, c.id, 'approve', {}, operator)).status).toBe(403);
        const approved = await rampAction(api, c.id, 'approve', { reason: 'error budget fine at 5%' });
        expect(approved.status).toBe(200);
        expect(approved.body.approvedStep).toBe(3);
      }
    }

    const k = await db.counters(c.id);
    expect(k).toMatchObject({ legacy: 0, eligible: 0, enrolling: 0, failed: 0, held: 0 });
    expect(k.enabled + k.ineligible).toBe(USERS);
    expect(k.ineligible).toBe(Math.floor(USERS / 33));
    expect(await db.truth(c.id)).toEqual({ enabled: k.enabled, ineligible: k.ineligible });
    expect((await api.request('GET', '/api/v1/flags/e2ee-default')).body.rolloutPpm).toBe(1_000_000);

    // every step entered exactly once although two controllers ticked, each audited with its figures
    const advances = await auditOf(api, c.id, 'campaign.ramp_advanced');
    expect(advances.map((a) => a.after.currentStep).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const a of advances) {
      expect(a.actor).toMatchObject({ id: 'system', name: 'ramp-controller' });
      expect(a.after.figures).toMatchObject({ plannedPpm: expect.any(Number), backlog: expect.objectContaining({ backlogBatches: expect.any(Number) }) });
    }
    const held = advances.filter((a) => a.after.currentStep > 0).map((a) => a.after.figures.heldMs);
    expect(held.every((ms: number) => ms >= HOUR)).toBe(true);
    expect(await auditOf(api, c.id, 'campaign.ramp_step_approved')).toHaveLength(1);

    // users were enrolled by the step whose range holds their bucket (a planner round that read
    // the campaign just before an advance and the flag just after it labels the first users of
    // the new step with the previous one, hence the upper bound of the next step)
    const byStep = await db.query<{ step: number; lo: number; hi: number }>(
      `SELECT enrolled_step AS step, min(bucket) AS lo, max(bucket) AS hi FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' GROUP BY 1 ORDER BY 1`,
      [c.id],
    );
    for (const r of byStep) {
      expect(r.lo).toBeGreaterThanOrEqual(r.step === 0 ? 0 : PPM[r.step - 1]);
      expect(r.hi).toBeLessThan(PPM[Math.min(r.step + 1, PPM.length - 1)]);
    }
  }, 240_000);
});
