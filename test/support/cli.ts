import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin', 'cutover.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  /** resolves once `ok` holds for the complete blocks of stdout (split on the separator) printed so far */
  until(ok: (blocks: string[]) => boolean): Promise<void>;
  exited: Promise<CliRun>;
}

/** The environment that points `cutover` at an API with a key. */
export function cliEnv(api: { url: string; adminKey: string }, key = api.adminKey): Record<string, string> {
  return { CUTOVER_URL: api.url, CUTOVER_API_KEY: key };
}

/**
 * `cutover` as operators run it: the built bin/cutover.js in a child process talking HTTP, with
 * only PATH and `env` in its environment. `separator` splits stdout into blocks for `until`.
 */
export function startCli(args: string[], env: Record<string, string>, separator = '\n'): CliProcess {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('build first: npm run build (npm test does it)');
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
  const exited = new Promise<CliRun>((done) => child.on('close', (code) => done({ code: code ?? 1, stdout, stderr })));
  return {
    until: (ok) => new Promise<void>((done) => (ok(blocks()) ? done() : waiters.push({ ok, resolve: done }))),
    exited,
  };
}

/** Runs `cutover` to completion (see startCli). */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return startCli(args, env).exited;
}
