/**
 * `npm run bench:workers -- [--users 20000] [--workers 1,2,4] [--latency-ms 1000] [--batch 500] [--concurrency 2]`
 *
 * How throughput follows the number of worker processes on one campaign. One scratch database
 * and one API; for each worker count, a fresh campaign over the same users on a fresh flag,
 * that many worker processes, the admission flag from 0 to 100%, the clock until every capable
 * user is settled. The simulated backend takes `--latency-ms` per batch call (exponentially
 * distributed), so a worker spends its time waiting on the backend as it would on a real one,
 * and more workers mean more batches in flight. The planner's backlog follows the workers it
 * sees (two batches per slot above MIGRATION_BACKLOG_BATCHES). Baseline: the first count of
 * the same run. Prints a table; nothing here is asserted.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { generateApiKey } from '../src/core/auth/api-key-format';
import { deleteRedisPrefix } from '../src/core/redis/delete-prefix';
import { BASE_DB, freePort, REDIS, sql, withDatabase } from './bench-env';

const ROOT = process.cwd();
const DIST = process.env.CUTOVER_DIST_DIR ?? resolve(__dirname, '..');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
const USERS = Number(arg('users', '20000'));
const WORKERS = arg('workers', '1,2,4').split(',').map(Number);
const LATENCY_MS = arg('latency-ms', '1000');
const BATCH = arg('batch', '500');
const CONCURRENCY = arg('concurrency', '2');
if (![USERS, ...WORKERS].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--users and --workers take positive integers');

let stopping = false;
let died: string | null = null;

function spawnNode(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [resolve(DIST, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  child.once('exit', (code, signal) => {
    if (!stopping && !child.killed) died = `${script} exited early (${signal ?? `code ${code}`})`;
  });
  return child;
}

async function stop(children: ChildProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, everyMs = 200): Promise<T> {
  for (;;) {
    if (died) throw new Error(died);
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

class Http {
  constructor(
    readonly url: string,
    readonly key: string,
  ) {}
  async call(method: string, path: string, body?: unknown, ifMatch?: string): Promise<{ body: any; etag: string | null }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch) headers['if-match'] = ifMatch;
    const r = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path} → ${r.status} ${text}`);
    return { body: text ? JSON.parse(text) : undefined, etag: r.headers.get('etag') };
  }
}

interface Run {
  workers: number;
  seconds: number;
  settled: number;
  peakInFlight: number;
}

/** One campaign moved by `workers` worker processes; the materialisation is not timed. */
async function runWith(workers: number, http: Http, url: string, env: Record<string, string>): Promise<Run> {
  const key = `bench-w${workers}-${randomBytes(2).toString('hex')}`;
  const flag = await http.call('POST', '/api/v1/flags', { key, rolloutPpm: 0 });
  const created = await http.call('POST', '/api/v1/campaigns', { key, name: key, flag: key, pacing: { batchSize: Number(BATCH) } });
  const id: string = created.body.id;
  const procs = Array.from({ length: workers }, () => spawnNode('src/main.worker.js', env));
  try {
    await http.call('POST', `/api/v1/campaigns/${id}/start`, {}, created.etag!);
    const mat = await until(() => http.call('GET', `/api/v1/campaigns/${id}`), (r) => r.body.materializedAt !== null);
    const population = Number(mat.body.populationSize);
    const t0 = process.hrtime.bigint();
    await http.call('POST', `/api/v1/flags/${key}/rollout`, { rolloutPpm: 1_000_000 }, flag.etag!);
    let peakInFlight = 0;
    const final = await until(
      async () => {
        const [r] = await sql(url, `SELECT sum(enabled + failed + ineligible)::bigint AS settled, (SELECT count(*)::int FROM migration_batches WHERE campaign_id = $1 AND status = 'running') AS running FROM progress_counters WHERE campaign_id = $1`, [id]);
        peakInFlight = Math.max(peakInFlight, Number(r.running));
        return Number(r.settled);
      },
      (settled) => settled >= population,
      100,
    );
    return { workers, seconds: Number(process.hrtime.bigint() - t0) / 1e9, settled: final, peakInFlight };
  } finally {
    stopping = true;
    await stop(procs);
    stopping = false;
  }
}

async function main(): Promise<void> {
  const name = `cutover_bench_${randomBytes(4).toString('hex')}`;
  const url = withDatabase(BASE_DB, name);
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const adminKey = generateApiKey().key;
  const port = await freePort();
  const children: ChildProcess[] = [];
  await sql(withDatabase(BASE_DB, 'postgres'), `CREATE DATABASE ${name}`);
  try {
    execFileSync('bash', ['scripts/prisma.sh', 'migrate', 'deploy'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
    await sql(url, `INSERT INTO users (id, country, platform, app_version, e2ee_capable) SELECT g, 'US', 'ios', '5.2.0', g % 33 <> 0 FROM generate_series(1, $1::bigint) g`, [USERS]);
    const env = {
      NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: url, DATABASE_POOL_SIZE: '6', REDIS_URL: REDIS, REDIS_PREFIX: prefix,
      AUTH_ADMIN_KEY: adminKey, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), BACKEND_KIND: 'simulated', BACKEND_SIM_LATENCY_MS: LATENCY_MS,
      MIGRATION_BATCH_SIZE: BATCH, WORKER_CONCURRENCY: CONCURRENCY, MIGRATION_PLANNER_INTERVAL_MS: '500', MIGRATION_RECONCILER_INTERVAL_MS: '86400000',
      RAMP_PACE_CEILING_USERS_PER_SECOND: '100000000', RAMP_PACE_MIN_USERS_PER_SECOND: '100000000',
    };
    children.push(spawnNode('src/main.api.js', env));
    const http = new Http(`http://127.0.0.1:${port}`, adminKey);
    await until(() => fetch(`${http.url}/health/ready`).then((r) => r.ok, () => false), (ok) => ok);
    const runs: Run[] = [];
    for (const w of WORKERS) {
      process.stderr.write(`${w} worker(s)…\n`);
      runs.push(await runWith(w, http, url, env));
    }
    const base = runs[0].settled / runs[0].seconds;
    process.stdout.write(`\n${USERS} users per campaign, batch ${BATCH}, WORKER_CONCURRENCY ${CONCURRENCY}, backend ${LATENCY_MS} ms per batch call\n\n`);
    process.stdout.write(`| workers | users/s | × ${runs[0].workers} worker(s) | time | batches in flight (peak) |\n| --- | --- | --- | --- | --- |\n`);
    for (const r of runs) {
      const rate = r.settled / r.seconds;
      process.stdout.write(`| ${r.workers} | ${Math.round(rate).toLocaleString('en')} | ${(rate / base).toFixed(2)} | ${r.seconds.toFixed(1)} s | ${r.peakInFlight} |\n`);
    }
  } finally {
    stopping = true;
    await stop(children);
    await sql(withDatabase(BASE_DB, 'postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await deleteRedisPrefix(REDIS, prefix);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
