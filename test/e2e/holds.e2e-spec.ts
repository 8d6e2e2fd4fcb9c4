import type { INestApplicationContext } from '@nestjs/common';
import { FakeClock } from '../../src/core/clock/clock';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag } from './migration.helpers';
import { auditOf, bindClock, setPlan, waitStepSettled } from './ramp.helpers';
import { cliEnv, runCli } from '../support/cli';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 10_000;

const HOUR = 3_600_000;

/**
 * A country hold placed mid-ramp (a regulator objects): its users who are not enabled yet
 * stay out while the ramp goes on to 100%, opt-ins refuse them, and releasing the hold lets
 * them in. Also forecast (from the bucket histogram) and explain.
 */
describe('holds, forecast and explain during a ramp', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  const clock = new FakeClock(Date.now());

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '1',
      MIGRATION_BATCH_SIZE: '500',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      RAMP_TICK_INTERVAL_MS: '150',
      RAMP_PACE_CEILING_USERS_PER_SECOND: '1000000',
      WORKER_CONCURRENCY: '4',
      DATABASE_POOL_SIZE: '6',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    for (const app of [api.app, worker]) bindClock(app, clock);
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  const brNotEnabled = async (id: string) =>
    (await db.query(`SELECT um.state::text AS state, count(*)::int AS n FROM user_migrations um JOIN users u ON u.id = um.user_id WHERE um.campaign_id = $1 AND u.country = 'BR' GROUP BY 1`, [id]))
      .reduce((o, r) => ({ ...o, [r.state]: r.n }), {} as Record<string, number>);

  it('a country hold keeps its not-yet-enabled users out until released', async () => {
    await createFlag(api, 'hold-flag', 0);
    const c = await createCampaign(api, { key: 'holdme', name: 'Hold me', flag: 'hold-flag' });
    await setPlan(api, c.id, { steps: [{ percent: 1, holdMinutes: 60 }, { percent: 20, holdMinutes: 60 }, { percent: 100 }] });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitStepSettled(api, db, c.id, 0);
    clock.advance(HOUR);
    await waitStepSettled(api, db, c.id, 1);

    // mid-ramp: the regulator of BR objects
    const bad = await api.request('POST', `/api/v1/campaigns/${c.id}/holds`, { body: { filter: {}, reason: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['body.filter', 'body.reason']);
    const before = await brNotEnabled(c.id);
    const placed = await api.request('POST', `/api/v1/campaigns/${c.id}/holds`, { body: { filter: { countries: ['BR'] }, reason: 'regulator objection in BR' } });
    expect(placed.status).toBe(201);
    const holdId = placed.body.id;
    const brTotal = Object.values(before).reduce((a, b) => a + b, 0);
    expect(Number(placed.body.heldCount)).toBe(brTotal - (before.enabled ?? 0));
    expect(await brNotEnabled(c.id)).toEqual({ held: Number(placed.body.heldCount), ...(before.enabled ? { enabled: before.enabled } : {}) });
    const again = await api.request('POST', `/api/v1/campaigns/${c.id}/holds`, { body: { filter: { countries: ['BR'] }, reason: 'regulator objection in BR' } });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(holdId);

    // opt-ins refuse held users; explain says why
    const [heldUser] = await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND state = 'held' LIMIT 1`, [c.id]);
    const optIn = await api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { body: { userId: heldUser.id } });
    expect(optIn.status).toBe(409);
    expect(optIn.body.code).toBe('campaign.user_held');
    const why = (await api.request('GET', `/api/v1/campaigns/${c.id}/users/${heldUser.id}`)).body;
    expect(why).toMatchObject({ state: 'held', reason: 'held', hold: { id: holdId, reason: 'regulator objection in BR' } });

    // forecast of the last step from the histogram equals table truth for [20%, 100%)
    const f = (await api.request('GET', `/api/v1/campaigns/${c.id}/forecast?percent=100`)).body;
    const [truth] = await db.query(
      `SELECT count(*)::int AS users, count(*) FILTER (WHERE u.e2ee_capable)::int AS capable FROM user_migrations um JOIN users u ON u.id = um.user_id WHERE um.campaign_id = $1 AND um.bucket >= 200000`,
      [c.id],
    );
    expect(f).toMatchObject({ fromPpm: 200_000, toPpm: 1_000_000, targetStep: 2, newlyAdmitted: { users: truth.users, eligible: truth.capable, ineligible: truth.users - truth.capable, exact: true } });
    expect(f.etaSeconds).toBeGreaterThan(0);
    expect(['ramp_throughput', 'pace']).toContain(f.rate.source);

    // the ramp goes on to 100%: nobody held gets in
    clock.advance(HOUR);
    await waitStepSettled(api, db, c.id, 2);
    const during = await brNotEnabled(c.id);
    expect(during.held).toBe(Number(placed.body.heldCount));
    expect(during.enabled ?? 0).toBe(before.enabled ?? 0);
    const list = (await api.request('GET', `/api/v1/campaigns/${c.id}/holds`)).body.items;
    expect(list).toEqual([expect.objectContaining({ id: holdId, heldCount: String(during.held), releasedAt: null })]);
    expect((await db.counters(c.id)).held).toBe(during.held);

    // release: every BR user moves on
    const released = await api.request('DELETE', `/api/v1/campaigns/${c.id}/holds/${holdId}`, { body: { reason: 'regulator satisfied' } });
    expect(released.status).toBe(200);
    expect(released.body.releasedAt).not.toBeNull();
    expect(released.body.toStates.eligible).toBeGreaterThan(0);
    expect((await api.request('DELETE', `/api/v1/campaigns/${c.id}/holds/${holdId}`)).status).toBe(200);
    await waitStepSettled(api, db, c.id, 2);
    const after = await brNotEnabled(c.id);
    expect(after.held ?? 0).toBe(0);
    expect((after.enabled ?? 0) + (after.ineligible ?? 0)).toBe(brTotal);
    expect(await db.counters(c.id)).toMatchObject({ held: 0, legacy: 0, eligible: 0, enrolling: 0, enabled: (await db.truth(c.id)).enabled });
    expect((await auditOf(api, c.id, 'campaign.hold_placed'))[0]).toMatchObject({ reason: 'regulator objection in BR', after: { filter: { countries: ['BR'] } } });
    expect(await auditOf(api, c.id, 'campaign.hold_released')).toHaveLength(1);
  }, 180_000);

  it('a hold placed before the start holds the users materialised after it, before the first step admits anyone', async () => {
    await createFlag(api, 'early-flag', 0);
    const c = await createCampaign(api, { key: 'early', name: 'Early hold', flag: 'early-flag', populationFilter: { countries: ['IN'] } });
    await setPlan(api, c.id, { steps: [{ percent: 100 }] });
    const placed = await api.request('POST', `/api/v1/campaigns/${c.id}/holds`, { body: { filter: { platforms: ['web'] }, reason: 'bad web build' } });
    expect(placed.status).toBe(201);
    expect(placed.body.heldCount).toBe('0');
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitStepSettled(api, db, c.id, 0);
    const rows = await db.query<{ platform: string; state: string; n: number }>(
      `SELECT u.platform, um.state::text AS state, count(*)::int AS n FROM user_migrations um JOIN users u ON u.id = um.user_id WHERE um.campaign_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
      [c.id],
    );
    const [web] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE country = 'IN' AND platform = 'web'`);
    expect(rows.filter((r) => r.platform === 'web')).toEqual([{ platform: 'web', state: 'held', n: web.n }]);
    expect(rows.filter((r) => r.platform !== 'web').every((r) => r.state === 'enabled' || r.state === 'ineligible')).toBe(true);
    expect((await api.request('GET', `/api/v1/campaigns/${c.id}/holds/${placed.body.id}`)).body.heldCount).toBe(String(web.n));
    expect(await auditOf(api, c.id, 'campaign.hold_reapplied')).toEqual([expect.objectContaining({ after: expect.objectContaining({ fromStates: { legacy: web.n } }) })]);
  }, 120_000);

  it('two overlapping holds released at the same moment leave nobody held under a released hold', async () => {
    await createFlag(api, 'twin-flag', 0);
    const c = await createCampaign(api, { key: 'twin', name: 'Twin holds', flag: 'twin-flag' });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    await waitFor('materialisation', () => db.query(`SELECT materialized_at FROM campaigns WHERE id = $1`, [c.id]), (r) => r[0].materialized_at !== null, 60_000);
    for (const country of ['US', 'DE', 'BR', 'IN', 'FR']) {
      const place = (filter: object) => api.request('POST', `/api/v1/campaigns/${c.id}/holds`, { body: { filter, reason: `overlap in ${country}` } });
      const a = await place({ countries: [country] });
      const b = await place({ countries: [country], platforms: ['android'] });
      expect([a.status, b.status]).toEqual([201, 201]);
      const [ra, rb] = await Promise.all([a, b].map((h) => api.request('DELETE', `/api/v1/campaigns/${c.id}/holds/${h.body.id}`, { body: { reason: 'both lifted' } })));
      expect([ra.status, rb.status]).toEqual([200, 200]);
      const stuck = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state = 'held'`, [c.id]);
      expect({ country, held: stuck[0].n }).toEqual({ country, held: 0 });
    }
    expect(await db.counters(c.id)).toMatchObject({ held: 0, legacy: (await db.truth(c.id)).legacy });

    // the same hold requested six times at once: one is placed, the others get it back
    const same = await Promise.all(Array.from({ length: 6 }, () => api.request('POST', `/api/v1/campaigns/${c.id}/holds`, { body: { filter: { platforms: ['web'] }, reason: 'bad web build' } })));
    expect(same.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(same.map((r) => r.body.id)).size).toBe(1);
    expect(await db.counters(c.id)).toMatchObject({ held: (await db.truth(c.id)).held });
  }, 120_000);

  it('explains users: enabled by a step, unknown, malformed', async () => {
    const [enabled] = await db.query<{ id: string; step: number; bucket: number }>(
      `SELECT um.user_id::text AS id, um.enrolled_step AS step, um.bucket FROM user_migrations um JOIN campaigns c ON c.id = um.campaign_id WHERE c.key = 'holdme' AND um.state = 'enabled' AND um.enrolled_via = 'ramp' LIMIT 1`,
    );
    const e = (await api.request('GET', `/api/v1/campaigns/holdme/users/${enabled.id}`)).body;
    expect(e).toMatchObject({ state: 'enabled', reason: 'enabled', enrolledBy: `step ${enabled.step + 1}`, bucket: enabled.bucket, admittedByCurrentStep: true, recoveryState: 'prompted', flagVersion: expect.any(Number) });
    expect(e.enabledAt).toEqual(expect.any(String));
    const cli = await runCli(['users', 'explain', 'holdme', enabled.id], cliEnv(api));
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    expect(cli.stdout).toContain(e.why);
    expect(cli.stdout).toMatch(new RegExp(`^enrolled via:\\s+step ${enabled.step + 1}$`, 'm'));
    expect(JSON.parse((await runCli(['--json', 'users', 'explain', 'holdme', enabled.id], cliEnv(api))).stdout)).toEqual(e);
    const missing = await runCli(['users', 'explain', 'holdme', '999999999'], cliEnv(api));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('user 999999999 does not exist');
    const unknown = await api.request('GET', `/api/v1/campaigns/holdme/users/999999999`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('user.not_found');
    const malformed = await api.request('GET', `/api/v1/campaigns/holdme/users/abc`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.details[0].field).toBe('params.userId');
    const viewer = await api.newKey('viewer');
    expect((await api.request('POST', `/api/v1/campaigns/holdme/holds`, { key: viewer, body: { filter: { countries: ['US'] }, reason: 'nope nope' } })).status).toBe(403);
  }, 60_000);
});
