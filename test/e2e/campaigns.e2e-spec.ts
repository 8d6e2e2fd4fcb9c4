import type { INestApplicationContext } from '@nestjs/common';
import { idempotencyKeyFor } from '../../src/rollout/migration/backend/backend.port';
import { stickyPermanent } from '../../src/rollout/migration/backend/simulated-backend';
import { MaintenanceService } from '../../src/rollout/migration/maintenance.service';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, createCampaign, createFlag, setRollout } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 3000;
const PERMANENT = 0.2;

describe('campaigns: lifecycle, validation, opt-in, recovery, reassessment, retry and reconciliation', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;

  beforeAll(async () => {
    env = await createTestEnvironment({
      BACKEND_SIM_LATENCY_MS: '1',
      BACKEND_SIM_PERMANENT_FAILURE_RATIO: String(PERMANENT),
      MIGRATION_BATCH_SIZE: '500',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE: '4',
      MIGRATION_RETRY_BACKOFF_MS: '20',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    await db.seedUsers(USERS);
    await createFlag(api, 'admission', 0);
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  // settled: no batch left to run (range batches admit their users when they claim them)
  // and nobody waiting or in flight
  const settled = async (id: string) => {
    await waitFor(
      'the campaign to settle',
      () => db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND status IN ('queued', 'running')`, [id]),
      (r) => r[0].n === 0,
      60_000,
    );
    return waitFor('the campaign to settle', () => db.counters(id), (k) => k.eligible === 0 && k.enrolling === 0, 60_000);
  };

  it('validates input and names each bad field; unknown flag is 404, duplicate key 409, viewer 403', async () => {
    const bad = await api.request('POST', '/api/v1/campaigns', { body: { key: 'Bad Key', name: '', pacing: { batchSize: 0 }, extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['body.key', 'body.name', 'body.pacing.batchSize']));
    expect((await api.request('POST', '/api/v1/campaigns', { body: { key: 'x', name: 'x', flag: 'nope' } })).body.code).toBe('flag.not_found');
    await createCampaign(api, { key: 'dup', name: 'dup', flag: 'admission' });
    const dup = await api.request('POST', '/api/v1/campaigns', { body: { key: 'dup', name: 'dup', flag: 'admission' } });
    expect([dup.status, dup.body.code]).toEqual([409, 'campaign.key_taken']);
    const viewer = await api.newKey('viewer');
    expect((await api.request('POST', '/api/v1/campaigns', { key: viewer, body: { key: 'v', name: 'v', flag: 'admission' } })).status).toBe(403);
    expect((await api.request('GET', '/api/v1/campaigns/dup', { key: viewer })).status).toBe(200);
    expect((await api.request('GET', '/api/v1/campaigns/no-such')).status).toBe(404);
  });

  it('follows the transition table with If-Match, audits each change once, and answers a repeat with the current state', async () => {
    const c = await createCampaign(api, { key: 'life', name: 'Lifecycle', flag: 'admission', pacing: { batchSize: 100 } });
    expect((await api.request('POST', `/api/v1/campaigns/${c.id}/start`, { body: {} })).status).toBe(428);
    expect((await api.request('POST', `/api/v1/campaigns/${c.id}/start`, { body: {}, headers: { 'if-match': '"99"' } })).body.code).toBe('campaign.version_conflict');
    const pauseDraft = await api.request('POST', `/api/v1/campaigns/life/pause`, { body: {}, headers: { 'if-match': c.etag } });
    expect([pauseDraft.status, pauseDraft.body.code]).toEqual([409, 'campaign.invalid_transition']);

    const started = await api.request('POST', `/api/v1/campaigns/life/start`, { body: {}, headers: { 'if-match': c.etag } });
    expect([started.status, started.body.status, started.headers.get('etag')]).toEqual([200, 'running', '"2"']);
    const again = await api.request('POST', `/api/v1/campaigns/life/start`, { body: {}, headers: { 'if-match': c.etag } });
    expect([again.status, again.body.status, again.body.version]).toEqual([200, 'running', 2]);

    const noReason = await api.request('POST', `/api/v1/campaigns/life/halt`, { body: {}, headers: { 'if-match': '"2"' } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.details[0].field).toBe('body.reason');
    const halted = await act(api, 'life', 'halt', { reason: 'backend incident 42' });
    expect([halted.body.status, halted.body.haltReason]).toEqual(['halted', 'backend incident 42']);
    expect(halted.body.haltedAt).toEqual(expect.any(String));
    expect((await act(api, 'life', 'resume')).body.status).toBe('running');
    expect((await act(api, 'life', 'pause')).body.status).toBe('paused');
    const completeNoReason = await act(api, 'life', 'complete');
    expect([completeNoReason.status, completeNoReason.body.details[0].field]).toEqual([400, 'body.reason']);
    const operator = await api.newKey('operator');
    const byOperator = await api.request('POST', '/api/v1/campaigns/life/complete', { key: operator, body: { reason: 'done' }, headers: { 'if-match': '"5"' } });
    expect(byOperator.status).toBe(403);
    const completed = await act(api, 'life', 'complete', { reason: 'everyone who can move has moved' });
    expect([completed.body.status, completed.body.completedAt]).toEqual(['completed', expect.any(String)]);
    const repeat = await act(api, 'life', 'complete', { reason: 'again' });
    expect([repeat.status, repeat.body.status, repeat.body.version]).toEqual([200, 'completed', completed.body.version]);
    expect((await act(api, 'life', 'resume')).status).toBe(409);

    const audit = await api.request('GET', `/api/v1/audit?entityType=campaign&entityId=${c.id}`);
    expect(audit.body.items.map((e: { action: string }) => e.action).reverse()).toEqual([
      'campaign.created', 'campaign.started', 'campaign.halted', 'campaign.resumed', 'campaign.paused', 'campaign.completed',
    ]);
    const haltEvent = audit.body.items.find((e: { action: string }) => e.action === 'campaign.halted');
    expect(haltEvent).toMatchObject({ reason: 'backend incident 42', before: { status: 'running' }, after: { status: 'halted' } });
  });

  it('edits pacing with If-Match, freezes the population filter once started, and lists with a keyset cursor', async () => {
    const c = await createCampaign(api, { key: 'edit', name: 'Edit', flag: 'admission', populationFilter: { countries: ['US'] } });
    const patched = await api.request('PATCH', '/api/v1/campaigns/edit', { body: { pacing: { batchSize: 250 }, reason: 'smaller batches' }, headers: { 'if-match': c.etag } });
    expect([patched.status, patched.body.pacing.batchSize, patched.body.populationFilter]).toEqual([200, 250, { countries: ['US'] }]);
    expect((await api.request('PATCH', '/api/v1/campaigns/edit', { body: { name: 'y' }, headers: { 'if-match': c.etag } })).status).toBe(409);
    await act(api, 'edit', 'start');
    const frozen = await api.request('PATCH', '/api/v1/campaigns/edit', { body: { populationFilter: {} }, headers: { 'if-match': '"3"' } });
    expect(frozen.body.code).toBe('campaign.population_frozen');
    const m = await waitFor('materialisation', () => api.request('GET', '/api/v1/campaigns/edit'), (r) => r.body.materializedAt !== null, 30_000);
    expect(Number(m.body.populationSize)).toBe(USERS / 5);
    await act(api, 'edit', 'halt', { reason: 'done with this test' });

    const page1 = await api.request('GET', '/api/v1/campaigns?limit=2');
    const page2 = await api.request('GET', `/api/v1/campaigns?limit=2&cursor=${page1.body.nextCursor}`);
    const ids = [...page1.body.items, ...page2.body.items].map((x: { id: string }) => Number(x.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await api.request('GET', '/api/v1/campaigns?status=halted')).body.items.map((x: { key: string }) => x.key)).toEqual(expect.arrayContaining(['edit']));
  });

  it('admits exactly the bucket range the flag rollout opens, and opt-ins whatever the ramp', async () => {
    const c = await createCampaign(api, { key: 'ramp', name: 'Ramp', flag: 'admission', pacing: { batchSize: 200 } });
    await act(api, 'ramp', 'start');
    await waitFor('materialisation', () => api.request('GET', '/api/v1/campaigns/ramp'), (r) => r.body.materializedAt !== null, 30_000);
    const capable = (await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND bucket >= 300000 AND user_id % 33 <> 0 ORDER BY user_id LIMIT 50`, [c.id]))
      .map((r) => r.id)
      .find((id) => !stickyPermanent(idempotencyKeyFor(c.id, id), PERMANENT))!;
    const optIn = await api.request('POST', '/api/v1/campaigns/ramp/opt-in', { body: { userId: capable } });
    expect([optIn.status, optIn.body.enrolledVia]).toEqual([200, 'opt_in']);
    expect(['eligible', 'enrolling', 'enabled']).toContain(optIn.body.state);
    await waitFor('the opt-in to be enabled', () => db.query(`SELECT state::text FROM user_migrations WHERE campaign_id = $1 AND user_id = $2`, [c.id, capable]), (r) => r[0].state === 'enabled', 30_000);
    const repeat = await api.request('POST', '/api/v1/campaigns/ramp/opt-in', { body: { userId: capable } });
    expect([repeat.status, repeat.body.state]).toEqual([200, 'enabled']);
    const optInAudit = await api.request('GET', `/api/v1/audit?action=campaign.user_opted_in&entityId=${c.id}:${capable}`);
    expect(optInAudit.body.items).toHaveLength(1);

    await setRollout(api, 'admission', 300_000);
    await waitFor('the range to be planned', () => api.request('GET', '/api/v1/campaigns/ramp'), (r) => r.body.plannedPpm === 300_000, 30_000);
    const k = await settled(c.id);
    const outside = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND bucket >= 300000 AND state <> 'legacy' AND enrolled_via IS DISTINCT FROM 'opt_in'`, [c.id]);
    const insideLegacy = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND bucket < 300000 AND state = 'legacy'`, [c.id]);
    expect([outside[0].n, insideLegacy[0].n]).toEqual([0, 0]);
    expect(k.enabled + k.failed + k.ineligible + k.legacy).toBe(USERS);
    const ineligible = await db.query(`SELECT DISTINCT last_error FROM user_migrations WHERE campaign_id = $1 AND state = 'ineligible'`, [c.id]);
    expect(ineligible).toEqual([{ last_error: 'device cannot do E2EE yet' }]);
  });

  it('opt-in: ineligible with a reason, 404 for unknown users, 429 past the rate limit, 409 when the campaign takes nobody', async () => {
    const incapable = '66';
    const r = await api.request('POST', '/api/v1/campaigns/ramp/opt-in', { body: { userId: incapable } });
    expect([r.status, r.body.state, r.body.lastError]).toEqual([200, 'ineligible', 'device cannot do E2EE yet']);
    expect((await api.request('POST', '/api/v1/campaigns/ramp/opt-in', { body: { userId: '999999' } })).status).toBe(404);
    expect((await api.request('POST', '/api/v1/campaigns/ramp/opt-in', { body: { userId: 'abc' } })).body.details[0].field).toBe('body.userId');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await api.request('POST', '/api/v1/campaigns/ramp/opt-in', { body: { userId: '99' } })).status);
    expect(statuses).toContain(429);
    const limited = await api.request('POST', '/api/v1/campaigns/ramp/opt-in', { body: { userId: '99' } });
    expect([limited.body.code, limited.headers.get('retry-after')]).toEqual(['opt_in.rate_limited', '60']);
    expect((await api.request('POST', '/api/v1/campaigns/edit/opt-in', { body: { userId: '5' } })).body.code).toBe('campaign.not_accepting');
  });

  it('reassesses a user who became capable (users PATCH → users-reassess job) and moves them', async () => {
    const c = await api.request('GET', '/api/v1/campaigns/ramp');
    const patched = await api.request('PATCH', '/api/v1/users/66', { body: { e2eeCapable: true, appVersion: '6.0.0' } });
    expect(patched.status).toBe(200);
    const row = await waitFor(
      'user 66 to move on',
      () => db.query(`SELECT state::text, last_error FROM user_migrations WHERE campaign_id = $1 AND user_id = 66`, [c.body.id]),
      (r) => r[0].state === 'enabled' || r[0].state === 'failed',
      30_000,
    );
    // the simulated backend fails a fixed share of keys permanently: then the reason is recorded
    if (row[0].state === 'failed') expect(row[0].last_error).toMatch(/permanent/);
    else expect(row[0].last_error).toBeNull();
  });

  it('reassesses users an import made capable, like a PATCH: the opted-in ineligible user moves', async () => {
    const c = await api.request('GET', '/api/v1/campaigns/ramp');
    const before = await db.query(`SELECT user_id::int AS id, state::text, e2ee_capable FROM user_migrations WHERE campaign_id = $1 AND user_id IN (99, 132) ORDER BY 1`, [c.body.id]);
    expect(before.map((r) => [r.id, r.e2ee_capable])).toEqual([
      [99, false],
      [132, false],
    ]);
    expect(before[0].state).toBe('ineligible'); // opted in above while incapable
    const rows = [];
    for (const id of ['99', '132', '5']) {
      const u = (await api.request('GET', `/api/v1/users/${id}`)).body;
      rows.push(JSON.stringify({ id, country: u.country, platform: u.platform, appVersion: u.appVersion, e2eeCapable: true, attributes: u.attributes }));
    }
    const imported = await api.request('POST', '/api/v1/users/import', { rawBody: rows.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
    expect(imported.status).toBe(200);
    // user 5 was capable already: unchanged, not reassessed
    expect(imported.body).toMatchObject({ updated: 2, unchanged: 1, reassessed: 2 });
    const copies = await db.query(`SELECT e2ee_capable FROM user_migrations WHERE campaign_id = $1 AND user_id IN (99, 132)`, [c.body.id]);
    expect(copies.map((r) => r.e2ee_capable)).toEqual([true, true]);
    const row = await waitFor(
      'user 99 to move on',
      () => db.query(`SELECT state::text, last_error FROM user_migrations WHERE campaign_id = $1 AND user_id = 99`, [c.body.id]),
      (r) => r[0].state === 'enabled' || r[0].state === 'failed',
      30_000,
    );
    if (row[0].state === 'failed') expect(row[0].last_error).toMatch(/permanent/);
  });

  it('sets a recovery method for an enabled user, counted once; refuses users who are not enabled', async () => {
    const c = await api.request('GET', '/api/v1/campaigns/ramp');
    const [enabled] = await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled' ORDER BY user_id LIMIT 1`, [c.body.id]);
    const before = await db.counters(c.body.id);
    const set = await api.request('POST', `/api/v1/users/${enabled.id}/recovery`, { body: { method: 'pin', campaign: 'ramp' } });
    expect(set.status).toBe(200);
    expect(set.body.campaigns).toEqual([{ campaignId: c.body.id, recoveryState: 'set', recoveryMethod: 'pin', changed: true }]);
    const again = await api.request('POST', `/api/v1/users/${enabled.id}/recovery`, { body: { method: 'pin' } });
    expect(again.body.campaigns[0].changed).toBe(false);
    const after = await db.counters(c.body.id);
    expect([after.recovery_pin - before.recovery_pin, before.recovery_prompted - after.recovery_prompted]).toEqual([1, 1]);
    const [legacy] = await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND state = 'legacy' LIMIT 1`, [c.body.id]);
    expect((await api.request('POST', `/api/v1/users/${legacy.id}/recovery`, { body: { method: 'pin' } })).body.code).toBe('recovery.user_not_enabled');
    expect((await api.request('POST', `/api/v1/users/${enabled.id}/recovery`, { body: { method: 'carrier-pigeon' } })).body.details[0].field).toBe('body.method');
  });

  it('retry-failed requeues failed users (attempts reset); permanent failures fail again with their reason', async () => {
    const c = await api.request('GET', '/api/v1/campaigns/ramp');
    const failedBefore = await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND state = 'failed'`, [c.body.id]);
    expect(failedBefore.length).toBeGreaterThan(0);
    const at = new Date();
    const r = await api.request('POST', '/api/v1/campaigns/ramp/retry-failed', { body: { reason: 'backend fixed a bug' } });
    expect([r.status, r.body.accepted]).toEqual([202, true]);
    await waitFor(
      'every failed user to be retried',
      () => db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state = 'failed' AND updated_at < $2`, [c.body.id, at]),
      (x) => x[0].n === 0,
      30_000,
    );
    await settled(c.body.id);
    const after = await db.query(`SELECT attempts, last_error FROM user_migrations WHERE campaign_id = $1 AND user_id = ANY($2::bigint[])`, [c.body.id, failedBefore.map((f) => f.id)]);
    expect(after.every((x) => x.attempts === 1 && /permanent/.test(x.last_error))).toBe(true);
    expect((await db.counters(c.body.id)).failed).toBe(failedBefore.length);
  });

  it('the reconciler repairs counter drift against table truth and reports it', async () => {
    const c = await api.request('GET', '/api/v1/campaigns/ramp');
    await settled(c.body.id);
    await db.query(`UPDATE progress_counters SET enabled = enabled + 7, legacy = legacy - 3 WHERE campaign_id = $1 AND shard = 5`, [c.body.id]);
    const drifted = await worker.get(MaintenanceService).reconcile(BigInt(c.body.id), 'ramp');
    expect(drifted).toBe(true);
    const truth = await db.truth(c.body.id);
    const k = await db.counters(c.body.id);
    for (const s of ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed']) expect(k[s]).toBe(truth[s] ?? 0);
    const audit = await api.request('GET', `/api/v1/audit?action=campaign.counters_repaired&entityId=${c.body.id}`);
    expect(audit.body.items[0]).toMatchObject({ actor: { id: 'system', name: 'reconciler' } });
    expect(audit.body.items[0].reason).toContain('"enabled":-7');
    expect(await worker.get(MaintenanceService).reconcile(BigInt(c.body.id), 'ramp')).toBe(false);
  });
});
