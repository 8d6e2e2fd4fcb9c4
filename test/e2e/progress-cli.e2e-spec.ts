import type { INestApplicationContext } from '@nestjs/common';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';
import { cliEnv, runCli, startCli } from '../support/cli';
import { act, createCampaign, createFlag } from './migration.helpers';
import { TestDb } from '../support/test-db';

const enabledOf = (block: string) => Number(/^ {2}enabled\s+[█░]+\s+([\d,]+)/m.exec(block)?.[1].replace(/,/g, '') ?? -1);

describe('cutover campaigns / campaign commands against the real engine', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let db: TestDb;
  let env: Record<string, string>;
  let viewerEnv: Record<string, string>;

  beforeAll(async () => {
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
    env = cliEnv(api, operator);
    viewerEnv = cliEnv(api, await api.newKey('viewer'));
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await db?.close();
    await api?.close();
  });

  it('lists campaigns with their progress, as text and as JSON', async () => {
    const text = await runCli(['campaigns', 'list'], viewerEnv);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^\s*ID\s+KEY\s+STATUS/m);
    expect(text.stdout).toMatch(/cli-watch\s+draft/);
    const json = await runCli(['campaigns', 'list', '--json'], viewerEnv);
    expect(JSON.parse(json.stdout).items.map((c: { key: string }) => c.key)).toEqual(['cli-complete', 'cli-watch']);
  });

  it('starts a campaign, watches it move with bars per state, and exits when it is halted', async () => {
    const started = await runCli(['campaign', 'start', 'cli-watch'], env);
    expect(started).toMatchObject({ code: 0 });
    expect(started.stdout).toMatch(/status:\s+running/);

    const watch = startCli(['campaign', 'watch', 'cli-watch'], env, '\n\n');
    // the first block is taken at once; wait until the engine has enabled someone since
    await watch.until((b) => b.length >= 2 && enabledOf(b.at(-1)!) > enabledOf(b[0]));
    const halted = await runCli(['campaign', 'halt', 'cli-watch', '--reason', 'watching the CLI halt'], env);
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
    const watch = startCli(['campaign', 'watch', 'cli-complete', '--json'], env, '\n');
    await watch.until((lines) => lines.length >= 2);
    const byOperator = await runCli(['campaign', 'complete', 'cli-complete', '--reason', 'an operator tries'], env);
    expect([byOperator.code, byOperator.stderr]).toEqual([3, expect.stringContaining('auth.forbidden')]);
    const completed = await runCli(['campaign', 'complete', 'cli-complete', '--reason', 'watching the CLI complete'], cliEnv(api));
    expect([completed.code, completed.stdout]).toEqual([0, expect.stringMatching(/^status: +completed$/m)]);
    const again = await runCli(['campaign', 'complete', 'cli-complete', '--reason', 'once more', '--json'], cliEnv(api));
    expect([again.code, JSON.parse(again.stdout).status]).toEqual([0, 'completed']);
    const run = await watch.exited;
    expect(run.code).toBe(0);
    const docs = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(docs[0].campaign.key).toBe('cli-complete');
    expect(docs.at(-1).campaign.status).toBe('completed');
  }, 180_000);

  it('exits non-zero with the API error or a usage error', async () => {
    const noReason = await runCli(['campaign', 'halt', 'cli-watch'], env);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("required option '--reason <reason>'");
    const unknown = await runCli(['campaign', 'pause', 'no-such-campaign'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('campaign.not_found');
    const viewer = await runCli(['campaign', 'resume', 'cli-watch'], viewerEnv);
    expect(viewer.code).toBe(3);
    expect(viewer.stderr).toContain('auth.forbidden');
    const approve = await runCli(['campaign', 'approve', 'cli-watch'], env);
    expect(approve.code).toBe(3);
    expect(approve.stderr).toContain('auth.forbidden');
    const badRef = await runCli(['campaign', 'watch', 'Not A Key'], env);
    expect(badRef.code).toBe(1);
    const watchUnknown = await runCli(['campaign', 'watch', 'no-such-campaign'], env);
    expect(watchUnknown.code).toBe(1);
    expect(watchUnknown.stderr).toContain('campaign.not_found');
  });
});
