import type { INestApplicationContext } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { FakeClock } from '../../src/core/clock/clock';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { cliEnv, startCli } from '../support/cli';
import { auditOf, bindClock, rampOf, waitStepSettled } from './ramp.helpers';
import { TestDb } from '../support/test-db';

const DEMO = resolve(process.env.CUTOVER_DIST_DIR ?? resolve(__dirname, '../../dist'), 'src/cli/demo.js');
const run = promisify(execFile);

/** The quick start's demo campaign runs a short ramp plan that visibly advances (holds of seconds). */
describe('the demo campaign ramps by itself and completes', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    if (!existsSync(DEMO)) throw new Error(`${DEMO} is missing: run npm run build first (scripts/test.sh does)`);
    const env = await createTestEnvironment({ BACKEND_SIM_LATENCY_MS: '1', RAMP_TICK_INTERVAL_MS: '150', MIGRATION_PLANNER_INTERVAL_MS: '300' });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    for (const app of [api.app, worker]) bindClock(app, clock);
    db = await TestDb.connect(env);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  }, 90_000);

  it('steps 1% → 5% → 25% → 100% on holds of seconds, then completes and `campaign watch` exits', async () => {
    await run(process.execPath, [DEMO, '--url', api.url, '--key', api.adminKey, '--users', '4000']);
    const id = (await api.request('GET', '/api/v1/campaigns/demo-messenger-1to1')).body.id;
    const watch = startCli(['campaign', 'watch', 'demo-messenger-1to1', '--json'], cliEnv(api, await api.newKey('viewer')));
    const plan = await rampOf(api, id);
    expect(plan.steps.map((s: { ppm: number }) => s.ppm)).toEqual([10_000, 50_000, 250_000, 1_000_000]);
    for (let step = 0; step < plan.steps.length; step++) {
      await waitStepSettled(api, db, id, step, 60_000);
      clock.advance(plan.steps[step].holdMinutes * 60_000);
    }
    const k = await db.counters(id);
    expect(k.enabled + k.ineligible + k.failed).toBe(4000);
    expect((await auditOf(api, id, 'campaign.ramp_advanced')).map((a) => a.after.currentStep).sort()).toEqual([0, 1, 2, 3]);

    const watched = await watch.exited;
    expect([watched.code, watched.stderr]).toEqual([0, expect.stringContaining('campaign demo-messenger-1to1 is completed')]);
    expect(JSON.parse(watched.stdout.trim().split('\n').at(-1)!).campaign.status).toBe('completed');
    const [completed] = await auditOf(api, id, 'campaign.completed');
    expect(completed).toMatchObject({ actor: { name: 'ramp-controller' }, before: { status: 'running' }, after: { status: 'completed', enabled: k.enabled, leftOver: { legacy: 0, eligible: 0, enrolling: 0, ineligible: k.ineligible } } });
    expect((await api.request('GET', '/api/v1/flags/e2ee-default-demo')).body.rolloutPpm).toBe(1_000_000);
  }, 120_000);
});
