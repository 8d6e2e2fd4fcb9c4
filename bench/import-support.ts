/** Scratch database, API process, input files and the result table for `npm run bench:import`. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { once } from 'node:events';
import { Client } from 'pg';
import { generateApiKey } from '../src/core/auth/api-key-format';
import { adminSql, BASE_DB, DIST, freePort, REDIS, ROOT, withDatabase } from './bench-env';

export { DIST, ROOT };

/** A migrated scratch database and the API process on it. */
export class Stack {
  readonly adminKey = generateApiKey().key;
  api?: ChildProcess;
  url = '';
  private constructor(
    readonly dbName: string,
    readonly databaseUrl: string,
  ) {}

  static async create(): Promise<Stack> {
    const name = `cutover_bench_import_${randomBytes(4).toString('hex')}`;
    await adminSql(`CREATE DATABASE ${name}`);
    const url = withDatabase(BASE_DB, name);
    execFileSync('bash', ['scripts/prisma.sh', 'migrate', 'deploy'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
    return new Stack(name, url);
  }

  async startApi(): Promise<void> {
    const port = await freePort();
    const env = {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: REDIS,
      REDIS_PREFIX: `benchimport${randomBytes(4).toString('hex')}`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      AUTH_ADMIN_KEY: this.adminKey,
    };
    const child = spawn(process.execPath, [resolve(DIST, 'src/main.api.js')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (b: Buffer) => process.stderr.write(`[api] ${b.toString()}`));
    this.api = child;
    this.url = `http://127.0.0.1:${port}`;
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode}`);
      if (await fetch(`${this.url}/health/ready`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the API did not become ready');
  }

  /** Peak resident memory of the API process so far (VmHWM), in MB. */
  async apiPeakRssMb(): Promise<number> {
    const status = await readFile(`/proc/${this.api!.pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  }

  async sql<T = Record<string, unknown>>(text: string): Promise<T[]> {
    const c = new Client({ connectionString: this.databaseUrl });
    await c.connect();
    try {
      return (await c.query(text)).rows as T[];
    } finally {
      await c.end();
    }
  }

  async close(): Promise<void> {
    if (this.api && this.api.exitCode === null) {
      const exited = once(this.api, 'exit');
      this.api.kill('SIGTERM');
      await exited;
    }
    await adminSql(`DROP DATABASE IF EXISTS ${this.dbName} WITH (FORCE)`);
  }
}

const COUNTRIES = ['IN', 'BR', 'ID', 'US', 'MX', 'NG', 'DE', 'GB', 'FR', 'TR'];
const PLATFORMS = ['android', 'ios', 'web', 'desktop'];
const VERSIONS = ['6.4.1', '6.4.0', '6.3.2', '6.2.0', '5.8.1'];

/** The same `rows` users as NDJSON and as CSV (with the attributes as a JSON column). */
export async function writeInputs(rows: number, ndjsonPath: string, csvPath: string): Promise<void> {
  const nd = createWriteStream(ndjsonPath);
  const csv = createWriteStream(csvPath);
  csv.write('id,country,platform,app_version,e2ee_capable,attributes\n');
  for (let start = 0; start < rows; start += 10_000) {
    let a = '';
    let b = '';
    for (let i = start; i < Math.min(rows, start + 10_000); i++) {
      const id = 10_000_000_000 + i * 7;
      const country = COUNTRIES[(i * 31) % COUNTRIES.length];
      const platform = PLATFORMS[(i * 17) % PLATFORMS.length];
      const version = VERSIONS[(i * 13) % VERSIONS.length];
      const capable = i % 33 !== 0;
      const devices = 1 + (i % 3);
      a += `{"id":"${id}","country":"${country}","platform":"${platform}","appVersion":"${version}","e2eeCapable":${capable},"attributes":{"devices":${devices},"locale":"en"}}\n`;
      b += `${id},${country},${platform},${version},${capable},"{""devices"":${devices},""locale"":""en""}"\n`;
    }
    if (!nd.write(a)) await once(nd, 'drain');
    if (!csv.write(b)) await once(csv, 'drain');
  }
  nd.end();
  csv.end();
  await Promise.all([once(nd, 'finish'), once(csv, 'finish')]);
}

export interface Result {
  run: string;
  rows: number;
  seconds: number;
  note?: string;
}

export function printTable(results: readonly Result[], baseline: Result): void {
  const header = ['run', 'rows', 'seconds', 'rows/s', 'vs raw COPY', 'note'];
  const lines = results.map((r) => [
    r.run,
    r.rows.toLocaleString('en-US'),
    r.seconds.toFixed(2),
    Math.round(r.rows / r.seconds).toLocaleString('en-US'),
    `${((baseline.seconds / r.seconds) * 100).toFixed(0)}%`,
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(row(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(row(l));
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
