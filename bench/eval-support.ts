/** Processes, scratch database and table printing for `npm run bench:eval`. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { generateApiKey } from '../src/core/auth/api-key-format';

import { adminSql, BASE_DB, DIST as BUILD, freePort, REDIS, ROOT, withDatabase } from './bench-env';

export { freePort, ROOT };


async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url}`);
}

/** BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every server process there (open it in Chrome DevTools). */
function spawnNode(script: string, env: Record<string, string>, name: string): ChildProcess {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, script], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (b: Buffer) => process.stderr.write(`[${name}] ${b.toString()}`));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** A migrated scratch database, a Redis prefix, and the processes started on them. */
export class Stack {
  readonly adminKey = generateApiKey().key;
  readonly prefix = `bencheval${randomBytes(4).toString('hex')}`;
  private readonly children: ChildProcess[] = [];
  private constructor(private readonly dbName: string, private readonly databaseUrl: string) {}

  static async create(): Promise<Stack> {
    const name = `cutover_bench_eval_${randomBytes(4).toString('hex')}`;
    await adminSql(`CREATE DATABASE ${name}`);
    const url = withDatabase(BASE_DB, name);
    execFileSync('bash', ['scripts/prisma.sh', 'migrate', 'deploy'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
    return new Stack(name, url);
  }

  /** pid of the process serving a URL this stack started (for CPU accounting). */
  readonly pids = new Map<string, number>();

  async startApi(): Promise<string> {
    const port = await freePort();
    const env = {
      NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: this.databaseUrl, REDIS_URL: REDIS, REDIS_PREFIX: this.prefix,
      HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), AUTH_ADMIN_KEY: this.adminKey,
    };
    const child = spawnNode(resolve(BUILD, 'src/main.api.js'), env, 'api');
    this.children.push(child);
    await waitFor(`http://127.0.0.1:${port}/health/ready`, child, 'the API');
    this.pids.set(`http://127.0.0.1:${port}`, child.pid!);
    return `http://127.0.0.1:${port}`;
  }

  async startBare(single: string, bulk: string): Promise<string> {
    const port = await freePort();
    const child = spawnNode(resolve(BUILD, 'bench/eval-bare-server.js'), { BARE_PORT: String(port), BARE_SINGLE_BODY: single, BARE_BULK_BODY: bulk }, 'bare');
    this.children.push(child);
    await waitFor(`http://127.0.0.1:${port}/__ready`, child, 'the bare server');
    this.pids.set(`http://127.0.0.1:${port}`, child.pid!);
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map(stop));
    const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
    await adminSql(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
  }
}

export async function call(base: string, method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, text, json: text ? (JSON.parse(text) as any) : null, headers: res.headers };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`\n${title}\n${line(cells[0])}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${cells.slice(1).map(line).join('\n')}\n`);
}
