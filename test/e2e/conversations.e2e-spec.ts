import type { INestApplicationContext } from '@nestjs/common';
import { bucketOf } from '../../src/flags/bucketing';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';
import { act, createCampaign, createFlag } from './migration.helpers';

describe('conversation evaluation: on only when every participant is ready', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let evaluator: string;

  beforeAll(async () => {
    env = await createTestEnvironment({ BACKEND_SIM_LATENCY_MS: '1', MIGRATION_PLANNER_INTERVAL_MS: '200', FLAGS_RATCHET_HEAL_INTERVAL_MS: '200' });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    db = await TestDb.connect(env);
    await db.seedUsers(40);
    evaluator = await api.newKey('evaluator');
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  const ofrep = (flag: string, participants: unknown[]) =>
    api.request('POST', `/ofrep/v1/evaluate/flags/${flag}`, { key: evaluator, body: { context: { targetingKey: 'c-1', conversation: { id: 'c-1', participants } } } });
  const explain = (flag: string, participants: unknown[]) => api.request('POST', `/api/v1/flags/${flag}/conversations/evaluate`, { body: { conversation: { id: 'c-1', participants } } });
  const state = async (campaignId: string, userId: string) =>
    (await db.query<{ state: string }>(`SELECT state::text AS state FROM user_migrations WHERE campaign_id = $1 AND user_id = $2`, [campaignId, userId]))[0]?.state;

  it('a 1:1 conversation turns on only when the second user is enabled, and stays on through a flag kill (ratchet)', async () => {
    await createFlag(api, 'e2ee-conv', 0);
    const c = await createCampaign(api, { key: 'conv', name: 'Conversations', flag: 'e2ee-conv' });
    expect((await act(api, c.id, 'start')).status).toBe(200);
    const [alice, bob] = ['2', '3']; // both E2EE-capable in the seeded population
    expect((await api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { body: { userId: alice } })).status).toBeLessThan(300);
    await waitFor('alice enabled', () => state(c.id, alice), (s) => s === 'enabled', 60_000);
    await waitFor('alice in the ratchet', () => ofrep('e2ee-conv', [alice]), (r) => r.body.value === true, 30_000);

    const half = await ofrep('e2ee-conv', [alice, bob]);
    expect(half.status).toBe(200);
    expect(half.body).toMatchObject({ value: false, variant: 'off', reason: 'TARGETING_MATCH', metadata: { conversationId: 'c-1', participants: 2, notReadyParticipant: bob, notReadyReason: 'not_in_rollout' } });
    const detail = (await explain('e2ee-conv', [alice, bob])).body;
    expect(detail).toMatchObject({ on: false, notReady: { participant: bob, reason: 'not_in_rollout' } });
    expect(detail.participants).toEqual([
      expect.objectContaining({ targetingKey: alice, ratchetEnabled: true, ready: true }),
      expect.objectContaining({ targetingKey: bob, ratchetEnabled: false, ready: false, why: 'not_in_rollout' }),
    ]);

    expect((await api.request('POST', `/api/v1/campaigns/${c.id}/opt-in`, { body: { userId: bob } })).status).toBeLessThan(300);
    await waitFor('bob enabled', () => state(c.id, bob), (s) => s === 'enabled', 60_000);
    const both = await waitFor('the conversation on', () => ofrep('e2ee-conv', [alice, bob]), (r) => r.body.value === true, 30_000);
    expect(both.body).toMatchObject({ value: true, variant: 'on', reason: 'TARGETING_MATCH', metadata: { participants: 2 } });
    expect(both.body.metadata.notReadyParticipant).toBeUndefined();

    const flag = await api.request('GET', '/api/v1/flags/e2ee-conv');
    await api.request('POST', '/api/v1/flags/e2ee-conv/kill', { body: { reason: 'incident' }, headers: { 'if-match': flag.headers.get('etag')! } });
    await waitFor('the kill applied', () => ofrep('e2ee-conv', ['4']), (r) => r.body.reason === 'DISABLED', 30_000);
    expect((await ofrep('e2ee-conv', [alice, bob])).body).toMatchObject({ value: true, variant: 'on' });
    expect((await ofrep('e2ee-conv', [alice, bob, '4'])).body).toMatchObject({ value: false, reason: 'DISABLED', metadata: { notReadyParticipant: '4', notReadyReason: 'flag_killed' } });
  });

  it('counts a rollout-admitted participant only when its context says it is E2EE-capable', async () => {
    await createFlag(api, 'e2ee-rollout', 1_000_000);
    await waitFor('flag live', () => ofrep('e2ee-rollout', ['1']), (r) => r.status === 200, 30_000);
    expect((await ofrep('e2ee-rollout', [{ targetingKey: '10', e2eeCapable: true }, { targetingKey: '11', e2eeCapable: true }])).body).toMatchObject({ value: true });
    expect((await ofrep('e2ee-rollout', [{ targetingKey: '10', e2eeCapable: true }, { targetingKey: '11', e2eeCapable: false }])).body.metadata).toMatchObject({
      notReadyParticipant: '11',
      notReadyReason: 'not_capable',
    });
    // a bare id carries no capability: it counts only once a campaign enabled it
    expect((await ofrep('e2ee-rollout', [{ targetingKey: '10', e2eeCapable: true }, '12'])).body.metadata).toMatchObject({ notReadyParticipant: '12', notReadyReason: 'not_capable' });
  });

  it('names the first participant who is not ready, in the order given, and serves the bulk endpoint too', async () => {
    await createFlag(api, 'e2ee-half', 500_000);
    const salt = (await api.request('GET', '/api/v1/flags/e2ee-half')).body.salt as string;
    const ids = Array.from({ length: 200 }, (_, i) => String(10_000 + i));
    const inside = ids.filter((u) => bucketOf(salt, u) < 500_000).slice(0, 2);
    const outside = ids.filter((u) => bucketOf(salt, u) >= 500_000).slice(0, 2);
    const ps = [...inside, ...outside].map((targetingKey) => ({ targetingKey, e2eeCapable: true }));
    await waitFor('flag live', () => ofrep('e2ee-half', ['1']), (res) => res.status === 200, 30_000);
    expect((await ofrep('e2ee-half', ps)).body.metadata).toMatchObject({ notReadyParticipant: outside[0], notReadyReason: 'not_in_rollout', participants: 4 });
    const bulk = await api.request('POST', '/ofrep/v1/evaluate/flags', { key: evaluator, body: { context: { conversation: { id: 'c-2', participants: ps.slice(0, 2) } } } });
    expect(bulk.body.flags.find((f: { key: string }) => f.key === 'e2ee-half')).toMatchObject({ value: true, metadata: { conversationId: 'c-2' } });
  });

  it('refuses a conversation beyond 32 participants or without an id, naming the field', async () => {
    const many = Array.from({ length: 33 }, (_, i) => String(i + 1));
    const r = await ofrep('e2ee-rollout', many);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ errorCode: 'INVALID_CONTEXT', errorDetails: expect.stringContaining('body.context.conversation.participants: at most 32 participants') });
    const noId = await api.request('POST', '/ofrep/v1/evaluate/flags/e2ee-rollout', { key: evaluator, body: { context: { conversation: { participants: ['1'] } } } });
    expect(noId.body.errorDetails).toContain('body.context.conversation.id');
    const admin = await api.request('POST', '/api/v1/flags/e2ee-rollout/conversations/evaluate', { body: { conversation: { id: 'x', participants: many } } });
    expect(admin.status).toBe(400);
    expect(admin.body.details[0].field).toBe('body.conversation.participants');
    expect((await api.request('POST', '/api/v1/flags/nope/conversations/evaluate', { body: { conversation: { id: 'x', participants: ['1'] } } })).status).toBe(404);
  });
});
