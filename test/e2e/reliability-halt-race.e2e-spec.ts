import type { INestApplicationContext } from '@nestjs/common';
import { RampControllerService } from '../../src/rollout/campaigns/ramp-controller.service';
import { startTestApi, startTestWorker, type TestApi } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { etagOf, setPlan } from './ramp.helpers';
import { TestDb } from '../support/test-db';
import { sleep, waitFor } from '../support/wait';

const USERS = 4_000;
const ROUNDS = 8;

/**
 * A halt racing the ramp controller's automatic step advance: over a plan of zero-hold
 * steps, the controller's tick (the same method the ramp processor runs) is fired at the
 * moment an advance is due, together with an operator's halt on the same campaign version
 * (re-reading the ETag on a 409, as the CLI does). The halt must win: the campaign
 * ends halted, no step is entered after the halt committed, the admission flag is not
 * raised past the step the halt froze, and no batch is claimed after the halt.
 */
describe('concurrency: a halt racing an automatic step advance', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;

  beforeAll(async () => {
    api = await startTestApi({
      // the test drives the controller's tick itself, so that it can fire it at the same moment as a halt
      RAMP_TICK_INTERVAL_MS: '3600000',
      BACKEND_SIM_LATENCY_MS: '5',
      MIGRATION_BATCH_SIZE: '100',
      MIGRATION_PLANNER_INTERVAL_MS: '100',
    });
    worker = await startTestWorker(api.env);
    db = await TestDb.connect(api.env);
    await db.seedUsers(USERS);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('the halt wins every round: halted, no later step, flag at the frozen step, nothing claimed after it', async () => {
    const controller = worker.get(RampControllerService, { strict: false });
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const key = `halt-race-${round}`;
      await createFlag(api, key, 0);
      const c = await createCampaign(api, { key, name: key, flag: key });
      const steps = Array.from({ length: 40 }, (_, i) => ({ ppm: 20_000 * (i + 1), holdSeconds: 0 }));
      await setPlan(api, c.id, { steps });
      expect((await act(api, c.id, 'start')).status).toBe(200);
      // let the controller (its own tick, as the ramp processor calls it) enter a few steps
      for (let i = 0; i < 200 && (await db.query(`SELECT current_step FROM campaigns WHERE id = $1`, [c.id]))[0].current_step < 1 + (round % 3); i++) {
        await controller.tick(BigInt(c.id));
        await sleep(30);
      }
      // the moment an advance is due: the step's range planned and drained
      await waitFor(
        'the step to be planned and drained',
        () => db.query(`SELECT c.planned_ppm AS planned, c.current_step AS step, (SELECT count(*)::int FROM migration_batches b WHERE b.campaign_id = c.id AND b.status IN ('queued','running')) AS open FROM campaigns c WHERE c.id = $1`, [c.id]),
        (r) => r[0].open === 0 && r[0].planned >= steps[r[0].step].ppm,
        60_000,
        5,
      );

      // the controller's tick and the operator's halt, on the same campaign version, at once
      const etag = await etagOf(api, c.id);
      const delayMs = [0, 3, 15, 40][round % 4];
      const [tick, first] = await Promise.all([
        controller.tick(BigInt(c.id)),
        sleep(delayMs).then(() => api.request('POST', `/api/v1/campaigns/${c.id}/halt`, { body: { reason: 'race test' }, headers: { 'if-match': etag } })),
      ]);
      let halted = first;
      for (let n = 0; halted.status === 409 && n < 20; n++) {
        halted = await api.request('POST', `/api/v1/campaigns/${c.id}/halt`, { body: { reason: 'race test' }, headers: { 'if-match': await etagOf(api, c.id) } });
      }
      expect(halted.status).toBe(200);
      outcomes.push(`tick ${tick.decision?.kind ?? 'none'}${tick.advanced ? ' (advanced)' : ''}, halt ${first.status}${first.status === 409 ? ' then 200' : ''}`);
      for (let i = 0; i < 10; i++) await controller.tick(BigInt(c.id));

      // ten more ticks and a second later, nothing has moved
      await sleep(1_000);
      const [camp] = await db.query(`SELECT status::text AS status, current_step AS step, halted_at FROM campaigns WHERE id = $1`, [c.id]);
      expect(camp.status).toBe('halted');
      const [later] = await db.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE entity_type = 'campaign' AND entity_id = $1 AND action = 'campaign.ramp_advanced'
           AND id > (SELECT max(id) FROM audit_events WHERE entity_type = 'campaign' AND entity_id = $1 AND action = 'campaign.halted')`,
        [c.id],
      );
      expect(later.n).toBe(0);
      const flag = (await api.request('GET', `/api/v1/flags/${key}`)).body;
      expect({ round, rolloutPpm: flag.rolloutPpm }).toEqual({ round, rolloutPpm: steps[camp.step].ppm });
      const [claimedAfter] = await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND started_at > $2`, [c.id, camp.halted_at]);
      expect(claimedAfter.n).toBe(0);
    }
    console.log(`halt vs advance: ${ROUNDS} rounds, the halt won each: ${outcomes.join('; ')}`);
  }, 240_000);
});
