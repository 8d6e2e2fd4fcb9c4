/**
 * `npm run bench:migrate -- --users 1000000 [--batch 2000] [--concurrency 4] [--backlog 16]`
 *
 * End-to-end migration throughput: a scratch database with N users, the real API and worker
 * as child processes (built dist/), the simulated backend at zero latency. The campaign is
 * materialised, then the admission flag goes from 0 to 100% and the clock runs until every
 * capable user is `enabled` (read from the counters). Baseline, same run, same rows: raw SQL
 * moving the same users legacy → enabled with batched `UPDATE … FROM unnest($ids)` (keyset
 * id reads + updates, one connection). Also reports materialisation rows/s and the worker's
 * peak RSS (VmHWM). Prints a table; nothing here is asserted.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { generateApiKey } from '../src/core/auth/api-key-format';
import { deleteRedisPrefix } from '../src/core/redis/delete-prefix';
import { sql } from './bench-env';

const ROOT = process.cwd();
const BASE_DB = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}
const USERS = arg('users', 1_000_000);
const BATCH = arg('batch', 2000);
const CONCURRENCY = arg('concurrency', 4);
const BACKLOG = arg('backlog', 16);
/** The V8 flags of the chart's worker.command (charts/cutover/values.yaml) and scripts/start.sh. */
const WORKER_NODE_OPTIONS = '--max-old-space-size=256';
/** the build this bench was compiled into (.cutover/bench): its API and worker are the ones measured */
const DIST = process.env.CUTOVER_DIST_DIR ?? resolve(__dirname, '..');

function dbUrl(name: string): string {
  const u = new URL(BASE_DB);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** BENCH_CPU_PROF=<dir>: a V8 CPU profile of the API and the worker, written there when they stop. */
const PROFILE_ARGS = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

function spawnNode(script: string, env: Record<string, string>, logFile?: string): ChildProcess {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...PROFILE_ARGS, resolve(DIST, script)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit'] });
  // a server that dies (bad NODE_OPTIONS, say) would leave the bench polling forever
  child.once('exit', (code, signal) => {
    if (!stopping) died = `${script} exited early (${signal ?? `code ${code}`})`;
  });
  return child;
}

let stopping = false;
let died: string | null = null;

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

class Http {
  constructor(
    readonly url: string,
    readonly key: string,
  ) {}
  async call(method: string, path: string, body?: unknown, ifMatch?: string): Promise<{ status: number; body: any; etag: string | null }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch) headers['if-match'] = ifMatch;
    const r = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (r.status >= 400) throw new Error(`${method} ${path} → ${r.status} ${text}`);
    return { status: r.status, body: parsed, etag: r.headers.get('etag') };
  }
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, everyMs = 200): Promise<T> {
  for (;;) {
    if (died) throw new Error(died);
    const v = await fn();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function baseline(url: string, campaignId: string): Promise<{ rows: number; seconds: number }> {
  await sql(url, `CREATE TABLE bench_baseline (LIKE user_migrations INCLUDING ALL) WITH (fillfactor = 80)`);
  await sql(url, `INSERT INTO bench_baseline SELECT * FROM user_migrations WHERE campaign_id = $1`, [campaignId]);
  await sql(url, `VACUUM ANALYZE bench_baseline`);
  const c = new Client({ connectionString: url });
  await c.connect();
  const t0 = process.hrtime.bigint();
  let cursor = '0';
  let rows = 0;
  for (;;) {
    // \`u.id > $2\` too: without it the merge join read users from the first id on every page
    // (quadratic: the baseline fell from 45k users/s at 300k users to 7k at 3M)
    const ids = await c.query<{ user_id: string }>(
      `SELECT b.user_id FROM bench_baseline b JOIN users u ON u.id = b.user_id
       WHERE b.campaign_id = $1 AND b.user_id > $2 AND u.id > $2 AND u.e2ee_capable ORDER BY b.user_id LIMIT $3`,
      [campaignId, cursor, BATCH],
    );
    if (ids.rows.length === 0) break;
    const list = ids.rows.map((r) => r.user_id);
    const r = await c.query(
      `UPDATE bench_baseline b SET state = 'enabled', attempts = b.attempts + 1, enabled_at = now(), recovery_state = 'prompted', updated_at = now()
       FROM unnest($2::bigint[]) AS x(id) WHERE b.campaign_id = $1 AND b.user_id = x.id AND b.state = 'legacy'`,
      [campaignId, list],
    );
    rows += r.rowCount ?? 0;
    cursor = list[list.length - 1];
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.end();
  await sql(url, `DROP TABLE bench_baseline`);
  return { rows, seconds };
}

async function main(): Promise<void> {
  const name = `cutover_bench_${randomBytes(4).toString('hex')}`;
  const url = dbUrl(name);
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const adminKey = generateApiKey().key;
  const port = await freePort();
  const children: ChildProcess[] = [];
  await sql(dbUrl('postgres'), `CREATE DATABASE ${name}`);
  try {
    execFileSync('bash', ['scripts/prisma.sh', 'migrate', 'deploy'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: url }, stdio: 'ignore' });
    process.stderr.write(`seeding ${USERS} users…\n`);
    await sql(url, `INSERT INTO users (id, country, platform, app_version, e2ee_capable)
      SELECT g, 'US', 'ios', '5.2.0', g % 33 <> 0 FROM generate_series(1, $1::bigint) g`, [USERS]);
    await sql(url, `VACUUM ANALYZE users`);
    const env = {
      NODE_ENV: 'production', LOG_LEVEL: 'warn', DATABASE_URL: url, DATABASE_POOL_SIZE: '10', REDIS_URL: REDIS, REDIS_PREFIX: prefix,
      AUTH_ADMIN_KEY: adminKey, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), BACKEND_KIND: 'simulated', BACKEND_SIM_LATENCY_MS: '0',
      MIGRATION_BATCH_SIZE: String(BATCH), MIGRATION_BACKLOG_BATCHES: String(BACKLOG), WORKER_CONCURRENCY: String(CONCURRENCY),
      MIGRATION_PLANNER_INTERVAL_MS: '1000', MIGRATION_RECONCILER_INTERVAL_MS: '86400000',
      // the ramp controller's adaptive pace (issue 5) must not cap the engine here: pin it high
      RAMP_PACE_CEILING_USERS_PER_SECOND: '100000000', RAMP_PACE_MIN_USERS_PER_SECOND: '100000000',
    };
    const apiProc = spawnNode('src/main.api.js', env);
    // BENCH_WORKER_LOG=<file>: the worker's debug log (per-batch timings) goes there
    const workerLog = process.env.BENCH_WORKER_LOG;
    // the worker runs as deployed (the chart's worker.command caps V8's old space);
    // BENCH_WORKER_NODE_OPTIONS replaces those V8 flags ('' for none) to compare RSS
    const workerNodeOptions: Record<string, string> = { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? WORKER_NODE_OPTIONS };
    const workerProc = spawnNode('src/main.worker.js', { ...env, ...workerNodeOptions, LOG_LEVEL: workerLog ? 'debug' : 'warn' }, workerLog);
    children.push(apiProc, workerProc);
    const http = new Http(`http://127.0.0.1:${port}`, adminKey);
    await until(() => fetch(`${http.url}/health/ready`).then((r) => r.ok, () => false), (ok) => ok);

    await http.call('POST', '/api/v1/flags', { key: 'bench-admission', rolloutPpm: 0 });
    const created = await http.call('POST', '/api/v1/campaigns', { key: 'bench', name: 'bench', flag: 'bench-admission', pacing: { batchSize: BATCH, backlogBatches: BACKLOG } });
    const id: string = created.body.id;
    const tm = process.hrtime.bigint();
    await http.call('POST', `/api/v1/campaigns/${id}/start`, {}, created.etag!);
    const mat = await until(() => http.call('GET', `/api/v1/campaigns/${id}`), (r) => r.body.materializedAt !== null);
    const matSeconds = Number(process.hrtime.bigint() - tm) / 1e9;
    await sql(url, `VACUUM ANALYZE user_migrations`);

    process.stderr.write('raw baseline…\n');
    const base = await baseline(url, id);
    await sql(url, `VACUUM ANALYZE user_migrations`);

    process.stderr.write('engine run…\n');
    const flag = await http.call('GET', '/api/v1/flags/bench-admission');
    const t0 = process.hrtime.bigint();
    await http.call('POST', '/api/v1/flags/bench-admission/rollout', { rolloutPpm: 1_000_000 }, flag.etag!);
    let rssMax = 0;
    const final = await until(
      async () => {
        rssMax = Math.max(rssMax, peakRssMb(workerProc.pid!));
        const [r] = await sql(url, `SELECT sum(enabled)::bigint AS enabled, sum(failed)::bigint AS failed, sum(ineligible)::bigint AS ineligible FROM progress_counters WHERE campaign_id = $1`, [id]);
        return { enabled: Number(r.enabled), failed: Number(r.failed), ineligible: Number(r.ineligible) };
      },
      (k) => k.enabled + k.failed + k.ineligible >= Number(mat.body.populationSize),
      100,
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rssMax = Math.max(rssMax, peakRssMb(workerProc.pid!));
    const engineRate = final.enabled / seconds;
    const baseRate = base.rows / base.seconds;
    const rows = [
      ['users', String(USERS), ''],
      ['materialisation (start → materialised)', `${Math.round(USERS / matSeconds).toLocaleString('en')} rows/s`, `${matSeconds.toFixed(1)} s`],
      [`raw baseline: unnest UPDATE legacy→enabled, ${BATCH}/statement`, `${Math.round(baseRate).toLocaleString('en')} users/s`, `${base.seconds.toFixed(1)} s, ${base.rows} rows`],
      [`engine end to end (rollout 0→100%, ${CONCURRENCY} slots, batch ${BATCH})`, `${Math.round(engineRate).toLocaleString('en')} users/s`, `${seconds.toFixed(1)} s, ${final.enabled} enabled`],
      ['engine / baseline', `${((engineRate / baseRate) * 100).toFixed(0)}%`, 'target ≥ 50%'],
      ['worker peak RSS (VmHWM)', `${rssMax.toFixed(0)} MB`, 'target ≤ 300 MB'],
    ];
    const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
    process.stdout.write(`\n| measure | value | note |\n| --- | --- | --- |\n`);
    for (const r of rows) process.stdout.write(`| ${r[0].padEnd(w[0])} | ${r[1].padEnd(w[1])} | ${r[2]} |\n`);
  } finally {
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    if (process.argv.includes('--keep')) process.stderr.write(`kept database ${name} and Redis keys ${prefix}:*\n`);
    else {
      await sql(dbUrl('postgres'), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      // the run's keys (ratchet sets, simulated-backend effects, BullMQ): 10M users leave ~15M
      await deleteRedisPrefix(REDIS, prefix);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
