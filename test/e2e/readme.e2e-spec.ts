import type { INestApplicationContext } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestEnvironment, startTestApi, startTestWorker, type TestApi } from '../support/app';

const ROOT = resolve(__dirname, '../..');
const README_URL = 'http://127.0.0.1:3000';

interface Block {
  line: number;
  run: boolean;
  why: string;
  code: string;
}

/** Every ```bash block of the README with the walk-through marker on the line before it. */
function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```bash') continue;
    const end = lines.indexOf('```', i + 1);
    const marker = /^<!-- readme-walkthrough: (run|skip)(?: \((.+)\))? -->$/.exec(lines[i - 1]?.trim() ?? '');
    blocks.push({ line: i + 1, run: marker?.[1] === 'run', why: marker ? (marker[2] ?? '') : 'NO MARKER', code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Runs the script in bash, stopping at the first failing command and naming it. */
function bash(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const prelude = `set -eo pipefail\ntrap 'echo "README command failed (exit $?): $BASH_COMMAND" >&2' ERR\n`;
  return new Promise((done) => {
    const child = spawn('bash', ['-c', prelude + script], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, TZ: 'UTC', npm_config_offline: 'true', npm_config_update_notifier: 'false' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/**
 * The README's shell examples, in order and as written, against a real API and worker: only
 * the URL is replaced (the README's 127.0.0.1:3000 is this test's API), and the folder they
 * run in has the admin key where `npm start` leaves it (.cutover/admin-key) and `cutover` as a
 * local bin for npx.
 */
describe('README walk-through', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let dir: string;
  const blocks = readmeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));

  beforeAll(async () => {
    const env = await createTestEnvironment({
      BACKEND_KIND: 'simulated',
      BACKEND_SIM_LATENCY_MS: '2',
      MIGRATION_PLANNER_INTERVAL_MS: '300',
      RAMP_TICK_INTERVAL_MS: '300',
    });
    api = await startTestApi(env);
    worker = await startTestWorker(env);
    dir = mkdtempSync(join(tmpdir(), 'cutover-readme-'));
    mkdirSync(join(dir, '.cutover'));
    writeFileSync(join(dir, '.cutover/admin-key'), `${api.adminKey}\n`);
    mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
    symlinkSync(join(ROOT, 'bin/cutover.js'), join(dir, 'node_modules/.bin/cutover'));
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('marks every shell example as run or skipped with a reason', () => {
    expect(blocks.filter((b) => !b.run && !b.why).map((b) => `README.md:${b.line}`)).toEqual([]);
    expect(blocks.filter((b) => b.run).length).toBeGreaterThanOrEqual(3);
  });

  it('runs the examples top to bottom, each command succeeding', async () => {
    const script = blocks.filter((b) => b.run).map((b) => b.code).join('\n').replaceAll(README_URL, api.url);
    const r = await bash(script, dir);
    expect({ code: r.code, failed: r.stderr.match(/README command failed.*/g) ?? [], stderr: r.code === 0 ? '' : r.stderr }).toEqual({ code: 0, failed: [], stderr: '' });

    // what the commands said they did
    const user = (await api.request('GET', '/api/v1/users/42')).body;
    expect(user).toMatchObject({ appVersion: '6.4.1', e2eeCapable: true });
    const keys = (await api.request('GET', '/api/v1/keys')).body.items;
    expect(keys).toContainEqual(expect.objectContaining({ name: 'ci', role: 'viewer' }));
    const ramp = (await api.request('GET', '/api/v1/campaigns/messenger-1to1/ramp')).body;
    expect(ramp).toMatchObject({ status: 'running', approvedStep: 0 });
    expect(ramp.steps).toHaveLength(5);
    expect(r.stdout).toMatch(/Messenger 1:1 \(messenger-1to1\) — RUNNING/);
    expect(r.stdout).toContain('user:');
  }, 300_000);
});
