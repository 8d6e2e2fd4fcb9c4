import type { INestApplicationContext } from '@nestjs/common';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 60_000;
const OPT_INS = 400;
const PARALLEL = 40;

/**
 * Opt-ins sent right after a start, while the worker materialises the population in chunks:
 * an opt-in for a user whose chunk is not written yet inserts that user's row itself. Both
 * took the same locks in opposite orders (the chunk: campaign row, then user rows; the opt-in:
 * user row, histogram bin, then campaign row), and PostgreSQL broke the cycle by failing the
 * opt-in (40P01, a 500) — 31 of 300 in a k6-like burst. Every opt-in must succeed.
 */
describe('opt-ins racing materialisation', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '1',
      MIGRATION_MATERIALIZE_CHUNK: '2000',
      MIGRATION_PLANNER_INTERVAL_MS: '200',
      MIGRATION_OPT_IN_LIMIT_PER_SECOND: '100000',
      DATABASE_POOL_SIZE: '20',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('answers every opt-in sent during materialisation, and each opted-in user moves', async () => {
    await createFlag(api, 'race-flag', 0);
    const c = await createCampaign(api, { key: 'race', name: 'Race', flag: 'race-flag' });
    expect((await act(api, c.id, 'start')).status).toBe(200);

    // spread over the whole id range, descending: most are ahead of the materialiser's cursor
    const users = Array.from({ length: OPT_INS }, (_, i) => USERS - Math.floor((i * USERS) / OPT_INS));
    const statuses: Record<number, number> = {};
    const errors: unknown[] = [];
    for (let i = 0; i < users.length; i += PARALLEL) {
      const answers = await Promise.all(users.slice(i, i + PARALLEL).map((u) => api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { body: { userId: u } })));
      for (const a of answers) {
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        if (a.status !== 200) errors.push(a.body);
      }
    }
    const materializing = await db.query(`SELECT materialized_at IS NULL AS running FROM campaigns WHERE id = $1`, [c.id]);
    console.log(`opt-ins during materialisation: ${JSON.stringify(statuses)}; materialisation still running after them: ${materializing[0].running}`);
    expect(errors).toEqual([]);

    const incapable = users.filter((u) => u % 33 === 0).length;
    const done = await waitFor(
      'the opted-in users to settle',
      () => db.counters(c.id),
      (k) => k.enrolling === 0 && k.eligible === 0 && k.legacy + k.ineligible + k.enabled === USERS && k.enabled + k.failed === OPT_INS - incapable,
      120_000,
      250,
    );
    expect(await db.truth(c.id)).toEqual(Object.fromEntries(Object.entries({ legacy: done.legacy, ineligible: done.ineligible, enabled: done.enabled }).filter(([, v]) => v > 0)));
    const [pop] = await db.query(`SELECT population_size::int AS n FROM campaigns WHERE id = $1`, [c.id]);
    expect(pop.n).toBe(USERS);
  }, 300_000);
});
