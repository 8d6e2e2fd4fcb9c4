import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The first installed path of a binary, or an error saying how the test scripts install it. */
export function installedBinary(name: string, candidates: Array<string | undefined>, script: string): string {
  const found = candidates.filter((p): p is string => !!p).find((p) => existsSync(p));
  if (!found) throw new Error(`${name} is not installed: run the tests through scripts/test.sh, or \`source scripts/${script}\``);
  return found;
}

export interface RunningDaemon {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a Prometheus-family server (Prometheus, Alertmanager) on a free private port with its
 * own temporary folder holding `configFile`, and waits for its `/-/ready`.
 */
export async function startDaemon(opts: {
  name: string;
  binary: string;
  configFile: { name: string; text: string; mode?: number };
  args: (dir: string, port: number) => string[];
}): Promise<RunningDaemon> {
  const dir = await mkdtemp(join(tmpdir(), `cutover-${opts.name.toLowerCase()}-`));
  await writeFile(join(dir, opts.configFile.name), opts.configFile.text, { mode: opts.configFile.mode ?? 0o644 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output: string[] = [];
  const proc: ChildProcess = spawn(opts.binary, opts.args(dir, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (const s of [proc.stdout, proc.stderr]) s?.on('data', (b: Buffer) => output.push(b.toString()));
  const close = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const ready = async () => {
    try {
      return (await fetch(`${url}/-/ready`)).status;
    } catch {
      return 0;
    }
  };
  try {
    await waitFor(`${opts.name} to be ready`, ready, (s) => s === 200 || proc.exitCode !== null, 30_000, 100);
    if (proc.exitCode !== null) throw new Error(`${opts.name} exited with ${proc.exitCode}: ${output.join('')}`);
  } catch (err) {
    await close();
    throw err;
  }
  return { url, close };
}
