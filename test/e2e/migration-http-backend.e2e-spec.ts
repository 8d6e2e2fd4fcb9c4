import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { INestApplicationContext } from '@nestjs/common';
import { createRedis } from '../../src/core/redis/redis.service';
import { BackendUnavailableError } from '../../src/rollout/migration/backend/backend.port';
import { HttpBackend } from '../../src/rollout/migration/backend/http-backend';
import { SimulatedBackend } from '../../src/rollout/migration/backend/simulated-backend';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { deleteRedisPrefix } from '../../src/core/redis/delete-prefix';
import { testRedisPrefix } from '../support/test-env';
import { act, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const SIM = resolve(process.env.CUTOVER_DIST_DIR ?? resolve(__dirname, '../../dist'), 'src/rollout/migration/backend/sim-server.js');

async function startSim(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [SIM, '--port', '0', '--redis', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((ok, fail) => {
    createInterface({ input: proc.stdout! }).once('line', ok);
    proc.once('exit', (code) => fail(new Error(`sim-server exited with ${code}`)));
  });
  return { url: JSON.parse(line).listening, proc };
}

describe('HTTP backend client against the standalone simulated backend server', () => {
  const prefix = testRedisPrefix();
  const redis = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const effects = new SimulatedBackend(redis, { keyPrefix: prefix, latencyMs: 0, transientFailureRatio: 0, permanentFailureRatio: 0, maxUsersPerSecond: 0 });
  const sims: ChildProcess[] = [];

  beforeAll(() => {
    if (!existsSync(SIM)) throw new Error(`${SIM} is missing: run npm run build first (scripts/test.sh does)`);
  });
  afterAll(async () => {
    for (const p of sims) p.kill('SIGTERM');
    await redis.quit();
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    await Promise.all([prefix, `${prefix}run`].map((p) => deleteRedisPrefix(url, p)));
  });

  it('sends one batch with a key per user, gets one result each, and a replay has no second effect', async () => {
    const sim = await startSim(['--prefix', prefix, '--latency-ms', '0', '--permanent', '0.3']);
    sims.push(sim.proc);
    const client = new HttpBackend({ url: sim.url, timeoutMs: 5000 });
    const users = Array.from({ length: 200 }, (_, i) => ({ userId: String(i + 1), idempotencyKey: `7:${i + 1}` }));
    const first = await client.enableBatch({ campaignId: '7', batchKey: '7-1-a', users });
    expect(first.map((o) => o.userId)).toEqual(users.map((u) => u.userId));
    const enabled = first.filter((o) => o.status === 'enabled').length;
    expect(first.filter((o) => o.status === 'permanent').every((o) => o.status === 'permanent' && /permanent/.test(o.reason))).toBe(true);
    expect(enabled).toBeGreaterThan(100);
    const second = await client.enableBatch({ campaignId: '7', batchKey: '7-1-b', users });
    expect(second).toEqual(first);
    expect(await effects.effectCount()).toBe(enabled);
    expect([...(await effects.callsPerKey()).values()].every((n) => n === 2)).toBe(true);
  });

  it('turns a slow or absent backend into BackendUnavailableError (timeout / unavailable)', async () => {
    const slow = await startSim(['--prefix', prefix, '--latency-ms', '2000']);
    sims.push(slow.proc);
    const users = [{ userId: '1', idempotencyKey: 'x:1' }];
    await expect(new HttpBackend({ url: slow.url, timeoutMs: 50 }).enableBatch({ campaignId: 'x', batchKey: 'b', users })).rejects.toMatchObject({ kind: 'timeout' });
    const absent = new HttpBackend({ url: 'http://127.0.0.1:9', timeoutMs: 500 }).enableBatch({ campaignId: 'x', batchKey: 'b', users });
    await expect(absent).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('runs a whole campaign through BACKEND_KIND=http', async () => {
    const sim = await startSim(['--prefix', `${prefix}run`, '--latency-ms', '5']);
    sims.push(sim.proc);
    const env = await createTestEnvironment({ BACKEND_KIND: 'http', BACKEND_HTTP_URL: sim.url, MIGRATION_BATCH_SIZE: '300', MIGRATION_PLANNER_INTERVAL_MS: '300' });
    const api: TestApi = await startTestApi(env);
    const worker: INestApplicationContext = await startTestWorker(env);
    const db = await TestDb.connect(env);
    try {
      await db.seedUsers(1500);
      await createFlag(api, 'http-flag', 1_000_000);
      const c = await createCampaign(api, { key: 'http-run', name: 'HTTP run', flag: 'http-flag' });
      await act(api, c.id, 'start');
      const k = await waitFor('the campaign to finish', () => db.counters(c.id), (x) => x.enabled + x.ineligible === 1500, 60_000);
      const runEffects = new SimulatedBackend(redis, { keyPrefix: `${prefix}run`, latencyMs: 0, transientFailureRatio: 0, permanentFailureRatio: 0, maxUsersPerSecond: 0 });
      expect(await runEffects.effectCount()).toBe(k.enabled);
    } finally {
      await worker.close();
      await db.close();
      await api.close();
    }
  }, 90_000);
});
