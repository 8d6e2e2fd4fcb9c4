import type { INestApplicationContext } from '@nestjs/common';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { TestDb, act, createCampaign, createFlag } from './migration.helpers';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'cutover.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cutover(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Starts `cutover`; `until(f)` resolves once f holds for the blocks (or lines) printed so far. */
function cutoverLive(args: string[], env: Record<string, string>, separator: string) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: ROOT });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ ok: (blocks: string[]) => boolean; resolve: () => void }> = [];
  // complete blocks only: a pipe may deliver one in several chunks
  const blocks = () => stdout.split(separator).slice(0, -1).filter((b) => b.trim());
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.splice(0)) {
      if (w.ok(blocks())) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
  return {
    until: (ok: (blocks: string[]) => boolean) => new Promise<void>((resolve) => (ok(blocks()) ? resolve() : waiters.push({ ok, resolve }))),
    exited,
  };
}

const enabledOf = (block: string) => Number(/^ {2}enabled\s+[█░]+\s+([\d,]+)/m.exec(block)?.[1].replace(/,/g, '') ?? -1);

describe('cutover campaigns / campaign commands against the real engine', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let env: Record<string, string>;
  let viewerEnv: Record<string, string>;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build first: npm run build (npm test does it)');
    const testEnv = await createTestEnvironment({
      BACKEND_SIM_LATENCY_MS: '5',
      BACKEND_SIM_MAX_USERS_PER_SECOND: '1000',
      MIGRATION_BATCH_SIZE: '250',
      MIGRATION_PLANNER_INTERVAL_MS: '500',
      WORKER_CONCURRENCY: '2',
    });
    api = await startTestApi(testEnv);
    worker = await startTestWorker(testEnv);
    db = await TestDb.connect(testEnv);
    await db.seedUsers(30_000);
    await createFlag(api, 'e2ee-cli', 1_000_000);
    await createCampaign(api, { key: 'cli-watch', name: 'CLI watch', flag: 'e2ee-cli' });
    await createCampaign(api, { key: 'cli-complete', name: 'CLI complete', flag: 'e2ee-cli' });
    const operator = await api.newKey('operator');
    env = { CUTOVER_URL: api.url, CUTOVER_API_KEY: operator };
    viewerEnv = { CUTOVER_URL: api.url, CUTOVER_API_KEY: await api.newKey('viewer') };
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('lists campaigns with their progress, as text and as JSON', async () => {
    const text = await cutover(['campaigns', 'list'], viewerEnv);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^\s*ID\s+KEY\s+STATUS/m);
    expect(text.stdout).toMatch(/cli-watch\s+draft/);
    const json = await cutover(['campaigns', 'list', '--json'], viewerEnv);
    expect(JSON.parse(json.stdout).items.map((c: { key: string }) => c.key)).toEqual(['cli-complete', 'cli-watch']);
  });

  it('starts a campaign, watches it move with bars per state, and exits when it is halted', async () => {
    const started = await cutover(['campaign', 'start', 'cli-watch'], env);
    expect(started).toMatchObject({ code: 0 });
    expect(started.stdout).toMatch(/status:\s+running/);

    const watch = cutoverLive(['campaign', 'watch', 'cli-watch'], env, '\n\n');
    // the first block is taken at once; wait until the engine has enabled someone since
    await watch.until((b) => b.length >= 2 && enabledOf(b.at(-1)!) > enabledOf(b[0]));
    const halted = await cutover(['campaign', 'halt', 'cli-watch', '--reason', 'watching the CLI halt'], env);
    expect(halted.code).toBe(0);
    const run = await watch.exited;
    expect(run.code).toBe(0);
    const blocks = run.stdout.split('\n\n').filter((b) => b.trim());
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const state of ['legacy', 'eligible', 'enrolling', 'enabled', 'failed', 'held']) expect(blocks[0]).toMatch(new RegExp(`^  ${state}\\s+[█░]{32} `, 'm'));
    expect(blocks[0]).toMatch(/throughput .*ETA /);
    expect(blocks.at(-1)).toContain('HALTED');
    expect(enabledOf(blocks.at(-1)!)).toBeGreaterThan(enabledOf(blocks[0]));
    expect(run.stderr).toContain('campaign cli-watch is halted — halted: watching the CLI halt');
  }, 180_000);

  it('prints one JSON document per update with --json and exits when the campaign completes', async () => {
    expect((await act(api, 'cli-complete', 'start')).status).toBe(200);
    const watch = cutoverLive(['campaign', 'watch', 'cli-complete', '--json'], env, '\n');
    await watch.until((lines) => lines.length >= 2);
    expect((await act(api, 'cli-complete', 'complete')).status).toBe(200);
    const run = await watch.exited;
    expect(run.code).toBe(0);
    const docs = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(docs[0].campaign.key).toBe('cli-complete');
    expect(docs.at(-1).campaign.status).toBe('completed');
  }, 180_000);

  it('exits non-zero with the API error or a usage error', async () => {
    const noReason = await cutover(['campaign', 'halt', 'cli-watch'], env);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("required option '--reason <reason>'");
    const unknown = await cutover(['campaign', 'pause', 'no-such-campaign'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('campaign.not_found');
    const viewer = await cutover(['campaign', 'resume', 'cli-watch'], viewerEnv);
    expect(viewer.code).toBe(3);
    expect(viewer.stderr).toContain('auth.forbidden');
    const approve = await cutover(['campaign', 'approve', 'cli-watch'], env);
    expect(approve.code).toBe(3);
    expect(approve.stderr).toContain('auth.forbidden');
    const badRef = await cutover(['campaign', 'watch', 'Not A Key'], env);
    expect(badRef.code).toBe(1);
    const watchUnknown = await cutover(['campaign', 'watch', 'no-such-campaign'], env);
    expect(watchUnknown.code).toBe(1);
    expect(watchUnknown.stderr).toContain('campaign.not_found');
  });
});
