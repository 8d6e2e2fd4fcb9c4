import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi, type TestEnvironment } from '../support/app';
import { act, backendProbe, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';
import { waitFor } from '../support/wait';

const USERS = 3000;
/** the built worker (scripts/test.sh builds before running the suite) */
const WORKER = resolve(process.env.CUTOVER_DIST_DIR ?? resolve(__dirname, '../../dist'), 'src/main.worker.js');

describe('a worker killed with SIGKILL mid-batch: the reaper recovers, nothing lost or doubled', () => {
  let env: TestEnvironment;
  let api: TestApi;
  let worker: INestApplicationContext | undefined;
  let child: ChildProcess | undefined;
  let db: TestDb;
  let probe: ReturnType<typeof backendProbe>;
  const settings = {
    BACKEND_SIM_LATENCY_MS: '500',
    MIGRATION_BATCH_SIZE: '300',
    MIGRATION_LEASE_MS: '3000',
    MIGRATION_REAPER_INTERVAL_MS: '500',
    MIGRATION_PLANNER_INTERVAL_MS: '300',
    WORKER_CONCURRENCY: '4',
  };

  beforeAll(async () => {
    if (!existsSync(WORKER)) throw new Error(`${WORKER} is missing: run npm run build first (scripts/test.sh does)`);
    env = await createTestEnvironment(settings);
    api = await startTestApi(env);
    db = await TestDb.connect(env);
    probe = backendProbe(env);
    await db.seedUsers(USERS);
    await createFlag(api, 'kill-flag', 1_000_000);
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await worker?.close();
    await probe?.close();
    await db?.close();
    await api?.close();
  });

  it('hands the dead worker’s leased rows back and finishes every user exactly once', async () => {
    child = spawn(process.execPath, [WORKER], {
      env: {
        ...process.env,
        ...settings,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATABASE_URL: env.config.database.url,
        DATABASE_POOL_SIZE: '5',
        REDIS_URL: env.config.redis.url,
        REDIS_PREFIX: env.config.redis.prefix,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const c = await createCampaign(api, { key: 'kill-me', name: 'Kill me', flag: 'kill-flag' });
    await act(api, c.id, 'start');
    const before = await waitFor('the child worker to hold leases', () => db.counters(c.id), (k) => k.enrolling >= 300, 120_000, 20);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const stuck = (await db.counters(c.id)).enrolling;
    expect(stuck).toBeGreaterThan(0);

    worker = await startTestWorker(env);
    const done = await waitFor('every user to settle', () => db.counters(c.id), (k) => k.enabled + k.ineligible === USERS, 240_000, 250);
    expect(done.eligible + done.enrolling + done.failed + done.legacy).toBe(0);
    expect(before.enrolling).toBeGreaterThan(0);

    const truth = await db.truth(c.id);
    expect(truth).toEqual({ enabled: done.enabled, ineligible: done.ineligible });
    const keys = await probe.backend.effectKeys();
    expect(keys.length).toBe(done.enabled);
    expect(new Set(keys.map((k) => k.split(':')[1])).size).toBe(keys.length);
    const reaped = await db.query(`SELECT count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 AND claimed > enabled + failed`, [c.id]);
    expect(reaped[0].n).toBeGreaterThan(0);
  }, 300_000);
});
