/**
 * Shared machinery of the HTTP scenario benches (the Node equivalents of load-tests/*.js):
 * a scratch database migrated from prisma/migrations, the real API (and worker) as child
 * processes built from dist/, a bare node:http baseline in its own process, autocannon runs
 * that check every answer, and the result table.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { generateApiKey } from '../src/core/auth/api-key-format';



import { adminSql, BASE_DB, DIST, freePort, REDIS, ROOT, withDatabase } from './bench-env';

export { DIST, ROOT };

/** Seconds per measured autocannon run, and its connections (machine-limits.md uses 50). */
export const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** Load before measuring a fresh API process (BENCH_WARM_UP_S). */
export const WARM_UP_S = Number(process.env.BENCH_WARM_UP_S ?? 8);


async function waitFor(url: string, child: ChildProcess, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} while starting`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

/** Runs a compiled file of DIST (`src/main.api.js`, `bench/http-baseline.js`). */
function spawnNode(script: string, env: Record<string, string>, name: string): ChildProcess {
  const child = spawn(process.execPath, [resolve(DIST, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  // LOG_LEVEL=warn: whatever the process logs (pino writes to stdout) is worth seeing
  child.stdout?.on('data', (b: Buffer) => process.stderr.write(`[${name}] ${b.toString()}`));
  child.stderr?.on('data', (b: Buffer) => process.stderr.write(`[${name}] ${b.toString()}`));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export interface Api {
  url: string;
  process: ChildProcess;
}

/** A scratch database + Redis prefix, and the processes started on them. */
export class Stack {
  readonly adminKey = generateApiKey().key;
  readonly prefix = `bench${randomBytes(4).toString('hex')}`;
  private readonly children: ChildProcess[] = [];
  private constructor(
    readonly dbName: string,
    readonly databaseUrl: string,
    private readonly extraEnv: Record<string, string>,
  ) {}

  /** Creates and migrates a scratch database (`scripts/prisma.sh migrate deploy`). */
  static async create(extraEnv: Record<string, string> = {}): Promise<Stack> {
    const name = `cutover_bench_${randomBytes(4).toString('hex')}`;
    await adminSql(`CREATE DATABASE ${name}`);
    const url = withDatabase(BASE_DB, name);
    execFileSync('bash', ['scripts/prisma.sh', 'migrate', 'deploy'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
    return new Stack(name, url, extraEnv);
  }

  env(): Record<string, string> {
    return {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: REDIS,
      REDIS_PREFIX: this.prefix,
      HTTP_HOST: '127.0.0.1',
      AUTH_ADMIN_KEY: this.adminKey,
      ...this.extraEnv,
    };
  }

  /** Starts `node dist/src/main.api.js` on a free port and waits until it is ready. */
  async startApi(): Promise<Api> {
    const port = await freePort();
    const child = spawnNode('src/main.api.js', { ...this.env(), HTTP_PORT: String(port) }, 'api');
    this.children.push(child);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(`${url}/health/ready`, child, 'the API');
    return { url, process: child };
  }

  async startWorker(): Promise<ChildProcess> {
    const child = spawnNode('src/main.worker.js', this.env(), 'worker');
    this.children.push(child);
    await new Promise((r) => setTimeout(r, 1500));
    if (child.exitCode !== null) throw new Error(`the worker exited with code ${child.exitCode}`);
    return child;
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map(stopChild));
    const redis = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
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

/** A bare node:http server in its own process answering like one endpoint (see http-baseline.ts). */
export async function startBaseline(spec: { status: number; body: string; etag?: string; kind?: 'node' | 'fastify' }): Promise<Api & { stop: () => Promise<void> }> {
  const port = await freePort();
  const env = { BASELINE_PORT: String(port), BASELINE_STATUS: String(spec.status), BASELINE_BODY: spec.body, BASELINE_ETAG: spec.etag ?? '', BASELINE_KIND: spec.kind ?? 'node' };
  const child = spawnNode('bench/http-baseline.js', env, 'baseline');
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/__ready`, child, 'the baseline server');
  return { url, process: child, stop: () => stopChild(child) };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
export function cpuMsOf(child: ChildProcess): number {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(process.env.BENCH_CLOCK_TICKS ?? 100);

export interface JsonAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(base: string, method: string, path: string, opts: { key: string; body?: unknown; headers?: Record<string, string> }): Promise<JsonAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key}`, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* keep text */
  }
  return { status: res.status, body, headers: res.headers };
}

export function expectOk(r: JsonAnswer, what: string, ok: number[] = [200, 201]): any {
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Prints rows as an aligned Markdown table (so it can be pasted into docs). */
export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: Array<string | number>) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`\n${title}\n${line(cells[0])}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${cells.slice(1).map(line).join('\n')}\n`);
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** Runs `main` and exits non-zero on failure (so `npm run bench:*` fails visibly). */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

/** How the autocannon runs were shaped, for table titles. */
export function runShape(): string {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  return `autocannon ${CONNECTIONS} connections; server and baseline alternately, ${rounds} rounds of ${Math.max(2, Math.round(DURATION_S / rounds))} s each, median round`;
}
