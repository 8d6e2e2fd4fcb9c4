/**
 * Fault-injection machinery: the real API, worker and simulated-backend server as child
 * processes built from the sources into dist/faults, a private redis-server that can be
 * restarted, a chaos proxy in front of the backend, and the checks every fault test ends
 * with (counters = table truth, one effect per idempotency key, everyone settled).
 *
 * Never touches the shared Redis on 6379 beyond the test's own key prefix, nor any database
 * but the test's own clone.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { generateApiKey } from '../../src/core/auth/api-key-format';
import { deleteRedisPrefix } from '../../src/core/redis/delete-prefix';
import { createTestDatabase, redisUrl, testQueue, testRedisPrefix } from './test-env';
import { createRedis } from '../../src/core/redis/redis.service';
import { STATES, TestDb } from './test-db';
import { sleep, waitFor } from './wait';

export const ROOT = resolve(__dirname, '../..');
export const DIST = join(ROOT, 'dist/faults');

// ---------------------------------------------------------------------------------------
// build

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.js') || e.name.endsWith('.css') || e.name.endsWith('.html')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Compiles src/ into dist/faults (its own out dir, so a concurrent `npm run build` of
 * someone else cannot pull the files from under a running test) when src/ changed since
 * the last build. A lock directory serialises parallel test files.
 */
export async function ensureBuilt(): Promise<void> {
  const stamp = join(DIST, '.built-at');
  const lock = `${DIST}.lock`;
  const fresh = () => existsSync(stamp) && statSync(stamp).mtimeMs >= newestMtime(join(ROOT, 'src'));
  if (fresh()) return;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} held for 3 minutes; remove it if no test is building`);
      await sleep(500);
    }
  }
  try {
    if (fresh()) return;
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', DIST], { cwd: ROOT, stdio: 'pipe' });
    const assets = join(ROOT, 'src/progress/dashboard/assets');
    if (existsSync(assets)) cpSync(assets, join(DIST, 'src/progress/dashboard/assets'), { recursive: true });
    writeFileSync(stamp, new Date().toISOString());
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// processes

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** A child process whose every output line is kept (for log scans and diagnostics). */
export class Proc {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = { out: '', err: '' };

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.stdout?.on('data', (b: Buffer) => this.take('out', b));
    child.stderr?.on('data', (b: Buffer) => this.take('err', b));
  }

  private take(which: 'out' | 'err', b: Buffer): void {
    const text = this.partial[which] + b.toString();
    const parts = text.split('\n');
    this.partial[which] = parts.pop() ?? '';
    this.lines.push(...parts.filter(Boolean));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last lines, for an error message. */
  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }
}

export function spawnDist(script: string, env: Record<string, string>, name: string): Proc {
  const child = spawn(process.execPath, [join(DIST, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(name, child);
}

// ---------------------------------------------------------------------------------------
// a private redis-server

/** `redis-server` on a random port with `--appendonly yes` in a temp dir: ours to restart. */
export class PrivateRedis {
  proc?: Proc;
  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'cutover-faults-redis-')));
    await r.up();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', this.dir, '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = new Proc('redis', child);
    await waitFor(
      'the private redis-server',
      async () => {
        const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        try {
          await c.connect();
          return await c.ping();
        } finally {
          c.disconnect();
        }
      },
      (v) => v === 'PONG',
      15_000,
      100,
    );
  }

  /** SHUTDOWN (the append-only file is complete: appendfsync always), then wait for the exit. */
  async down(): Promise<void> {
    if (!this.proc?.alive) return;
    await this.proc.stop(5_000);
  }

  async close(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// a chaos proxy in front of the backend

export type ChaosMode =
  | 'pass'
  /** answer 503 without forwarding */
  | 'refuse'
  /** forward (the effect happens), then answer 502: the answer is lost */
  | 'lose-answer'
  /** forward after `holdMs` (past the client's timeout), the client has given up by then */
  | 'hold';

/** An HTTP proxy whose behaviour the test switches while the campaign runs. */
export class ChaosProxy {
  mode: ChaosMode = 'pass';
  holdMs = 2_000;
  readonly counts: Record<ChaosMode, number> = { pass: 0, refuse: 0, 'lose-answer': 0, hold: 0 };
  private server?: Server;
  port = 0;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.server = createHttpServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return `http://127.0.0.1:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const mode = this.mode;
    this.counts[mode]++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (mode === 'refuse') {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"unavailable"}');
      return;
    }
    if (mode === 'hold') await sleep(this.holdMs);
    const upstream = await forward(this.target, req, Buffer.concat(chunks)).catch((err: Error) => ({ status: 502, body: JSON.stringify({ code: 'bad_gateway', message: err.message }) }));
    if (res.destroyed) return;
    if (mode === 'lose-answer') {
      res.writeHead(502, { 'content-type': 'application/json' }).end('{"code":"bad_gateway"}');
      return;
    }
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(upstream.body);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
  }
}

function forward(target: string, req: IncomingMessage, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const u = new URL(req.url ?? '/', target);
    const out = httpRequest(u, { method: req.method, headers: { ...req.headers, host: u.host, 'content-length': String(body.length) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 502, body: Buffer.concat(parts).toString() }));
      res.on('error', fail);
    });
    out.on('error', fail);
    out.end(body);
  });
}

// ---------------------------------------------------------------------------------------
// a stack: database, prefix, processes

export interface HttpAnswer {
  status: number;
  body: any;
  headers: Headers;
}

export class FaultStack {
  readonly adminKey = generateApiKey().key;
  readonly prefix = testRedisPrefix();
  readonly procs: Proc[] = [];
  redisUrl = redisUrl();
  apiUrl = '';
  private constructor(
    readonly dbUrl: string,
    readonly dbName: string,
    private readonly dropDb: () => Promise<void>,
    readonly baseEnv: Record<string, string>,
  ) {}

  static async create(env: Record<string, string>): Promise<FaultStack> {
    // built once by the faults project's global setup; built here only when run some other way
    if (!existsSync(join(DIST, '.built-at'))) await ensureBuilt();
    const db = await createTestDatabase();
    return new FaultStack(db.url, db.name, db.drop, env);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: this.dbUrl,
      DATABASE_POOL_SIZE: '5',
      REDIS_URL: this.redisUrl,
      REDIS_PREFIX: this.prefix,
      HTTP_HOST: '127.0.0.1',
      AUTH_ADMIN_KEY: this.adminKey,
      // counters must equal truth on their own: the reconciler would repair a drift
      MIGRATION_RECONCILER_INTERVAL_MS: '86400000',
      ...this.baseEnv,
      ...extra,
    };
  }

  /** Starts an API process and waits until /health/ready answers; `port` reuses a port (restart). */
  async startApi(port?: number, extra: Record<string, string> = {}): Promise<{ proc: Proc; url: string; port: number }> {
    const p = port ?? (await freePort());
    const proc = spawnDist('src/main.api.js', this.env({ HTTP_PORT: String(p), ...extra }), `api:${p}`);
    this.procs.push(proc);
    const url = `http://127.0.0.1:${p}`;
    await waitFor(
      `the API on ${p} (${proc.name})`,
      async () => {
        if (!proc.alive) throw new Error(`the API exited: ${proc.tail()}`);
        return (await fetch(`${url}/health/ready`)).status;
      },
      (s) => s === 200,
      60_000,
      150,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.tail()}`);
    });
    if (!this.apiUrl) this.apiUrl = url;
    return { proc, url, port: p };
  }

  /** Starts a worker and waits for its "started" log line. */
  async startWorker(extra: Record<string, string> = {}, name = 'worker'): Promise<Proc> {
    const proc = spawnDist('src/main.worker.js', this.env(extra), name);
    this.procs.push(proc);
    await waitFor('the worker to start', async () => {
      if (!proc.alive) throw new Error(`the worker exited: ${proc.tail()}`);
      return proc.lines.some((l) => l.includes('cutover worker started'));
    }, (v) => v, 60_000, 100);
    return proc;
  }

  /** The simulated backend's HTTP server (same Redis and prefix, so effects are visible). */
  async startSimServer(args: string[] = []): Promise<{ proc: Proc; url: string }> {
    const port = await freePort();
    const child = spawn(process.execPath, [join(DIST, 'src/rollout/migration/backend/sim-server.js'), '--port', String(port), '--redis', this.redisUrl, '--prefix', this.prefix, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const real = new Proc('sim-server', child);
    this.procs.push(real);
    const url = `http://127.0.0.1:${port}`;
    await waitFor('the sim server', async () => (await fetch(`${url}/health`)).status, (s) => s === 200, 30_000, 100);
    return { proc: real, url };
  }

  async request(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; url?: string } = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.adminKey}`, ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch((opts.url ?? this.apiUrl) + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** Flag at `rolloutPpm`, campaign on it, started. Returns the campaign id. */
  async startCampaign(key: string, rolloutPpm = 1_000_000, pacing: Record<string, number> = {}): Promise<string> {
    const f = await this.request('POST', '/api/v1/flags', { body: { key, rolloutPpm } });
    if (f.status !== 201) throw new Error(`flag: ${f.status} ${JSON.stringify(f.body)}`);
    const c = await this.request('POST', '/api/v1/campaigns', { body: { key, name: key, flag: key, pacing } });
    if (c.status !== 201) throw new Error(`campaign: ${c.status} ${JSON.stringify(c.body)}`);
    const s = await this.act(c.body.id, 'start');
    if (s.status !== 200) throw new Error(`start: ${s.status} ${JSON.stringify(s.body)}`);
    return String(c.body.id);
  }

  async act(id: string, action: string, body: Record<string, unknown> = {}): Promise<HttpAnswer> {
    const cur = await this.request('GET', `/api/v1/campaigns/${id}`);
    return this.request('POST', `/api/v1/campaigns/${id}/${action}`, { body, headers: { 'if-match': cur.headers.get('etag') ?? '' } });
  }

  /** Kills every process (SIGKILL: the test is over) and drops the database and the prefix's keys. */
  async close(): Promise<void> {
    for (const p of this.procs) p.kill('SIGKILL');
    await Promise.all(this.procs.map((p) => p.exited));
    await deleteRedisPrefix(this.redisUrl, this.prefix).catch(() => undefined);
    await this.dropDb().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL: table truth and connection termination (own database only)

// ---------------------------------------------------------------------------------------
// the checks every fault test ends with

export interface Integrity {
  truth: Record<string, number>;
  counters: Record<string, number>;
  effects: number;
  replayedKeys: number;
  maxCallsPerKey: number;
  batches: Record<string, number>;
}

/**
 * After a fault: counters equal table truth; nobody is left legacy/eligible/enrolling; every
 * failed or ineligible user has a reason; the backend's effects are exactly the enabled users
 * (one key each, never two effects for a key); no batch is left queued or running; the
 * reconciler never had to repair anything.
 */
export async function checkIntegrity(db: TestDb, redisUrlForEffects: string, prefix: string, campaignId: string, population: number): Promise<Integrity> {
  const truth: Record<string, number> = { ...Object.fromEntries(STATES.map((st) => [st, 0])), ...(await db.truth(campaignId)), recovery_prompted: await db.recoveryPrompted(campaignId) };
  const counters = await db.counters(campaignId);
  const problems: string[] = [];
  for (const k of Object.keys(truth)) if (truth[k] !== counters[k]) problems.push(`counter ${k} = ${counters[k]} but the table has ${truth[k]}`);
  for (const s of ['legacy', 'eligible', 'enrolling']) if (truth[s] !== 0) problems.push(`${truth[s]} users left ${s}`);
  const total = Object.entries(truth).filter(([k]) => k !== 'recovery_prompted').reduce((a, [, v]) => a + v, 0);
  if (total !== population) problems.push(`${total} user_migrations rows for a population of ${population}`);
  const [noReason] = await db.query(`SELECT count(*)::int AS n FROM user_migrations WHERE campaign_id = $1 AND state IN ('failed','ineligible') AND (last_error IS NULL OR last_error = '')`, [campaignId]);
  if (noReason.n !== 0) problems.push(`${noReason.n} failed/ineligible users without a reason`);
  const batchRows = await db.query<{ status: string; n: number }>(`SELECT status::text AS status, count(*)::int AS n FROM migration_batches WHERE campaign_id = $1 GROUP BY 1`, [campaignId]);
  const batches = Object.fromEntries(batchRows.map((r) => [r.status, r.n]));
  if ((batches.queued ?? 0) + (batches.running ?? 0) > 0) problems.push(`batches left open: ${JSON.stringify(batches)}`);
  const [repairs] = await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'campaign.counters_repaired' AND entity_id = $1`, [campaignId]);
  if (repairs.n !== 0) problems.push(`the reconciler repaired the counters ${repairs.n} times`);

  const redis = createRedis(redisUrlForEffects, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  let effects: string[];
  let calls: Record<string, string>;
  try {
    // the simulated backend counts calls per key: its keys are the effects (docs/migration.md)
    calls = await redis.hgetall(`${prefix}:sim-backend:calls`);
    effects = Object.keys(calls);
  } finally {
    redis.disconnect();
  }
  const enabled = new Set((await db.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE campaign_id = $1 AND state = 'enabled'`, [campaignId])).map((r) => `${campaignId}:${r.id}`));
  const effectSet = new Set(effects);
  const strayEffects = effects.filter((k) => k.startsWith(`${campaignId}:`) && !enabled.has(k));
  const missingEffects = [...enabled].filter((k) => !effectSet.has(k));
  if (strayEffects.length) problems.push(`${strayEffects.length} backend effects for users not enabled, e.g. ${strayEffects.slice(0, 3).join(', ')}`);
  if (missingEffects.length) problems.push(`${missingEffects.length} enabled users without a backend effect, e.g. ${missingEffects.slice(0, 3).join(', ')}`);
  const callCounts = Object.values(calls).map(Number);
  if (problems.length) throw new Error(`integrity check failed for campaign ${campaignId}:\n- ${problems.join('\n- ')}`);
  return {
    truth,
    counters,
    effects: effects.filter((k) => k.startsWith(`${campaignId}:`)).length,
    replayedKeys: callCounts.filter((n) => n > 1).length,
    maxCallsPerKey: Math.max(0, ...callCounts),
    batches,
  };
}

/** Waits until no user of the campaign is legacy, eligible or enrolling (by the counters). */
export async function waitSettled(db: TestDb, campaignId: string, population: number, timeoutMs = 120_000, stack?: FaultStack): Promise<Record<string, number>> {
  return waitFor(
    'every admitted user to settle',
    () => db.counters(campaignId),
    (k) => k.legacy + k.eligible + k.enrolling === 0 && k.enabled + k.failed + k.ineligible + k.held === population,
    timeoutMs,
    250,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await diagnose(db, campaignId, stack)}`);
  });
}

/** What a stuck run looks like: campaign row, open batches, queue counts, recent worker lines. */
export async function diagnose(db: TestDb, campaignId: string, stack?: FaultStack): Promise<string> {
  const out: string[] = [];
  const [c] = await db.query(`SELECT status::text, planned_ppm, admitted_ppm, version FROM campaigns WHERE id = $1`, [campaignId]).catch(() => [undefined]);
  out.push(`campaign ${JSON.stringify(c)}`);
  const open = await db.query(`SELECT id, status::text, queued_at, started_at, claimed, retried FROM migration_batches WHERE campaign_id = $1 AND status IN ('queued','running') ORDER BY id LIMIT 20`, [campaignId]).catch((e: Error) => [{ error: e.message }]);
  out.push(`open batches ${JSON.stringify(open)}`);
  const eligible = await db.query(`SELECT bucket, attempts, last_error FROM user_migrations WHERE campaign_id = $1 AND state IN ('eligible','enrolling','legacy') ORDER BY bucket LIMIT 5`, [campaignId]).catch(() => []);
  out.push(`unsettled users ${JSON.stringify(eligible)}`);
  if (stack) {
    for (const name of ['migration', 'control']) {
      const q = testQueue(name, stack.redisUrl, stack.prefix);
      out.push(`queue ${name} ${JSON.stringify(await q.getJobCounts())}`);
      const failed = await q.getFailed(0, 3);
      for (const j of failed) out.push(`  failed ${j.id}: ${j.failedReason}`);
      await q.close();
    }
    for (const p of stack.procs.filter((x) => x.name.startsWith('worker'))) out.push(`--- ${p.name}\n${p.tail(15)}`);
  }
  return out.join('\n');
}

/** Every line that carries a secret (an API key's secret part, a password). */
export function secretLeaks(lines: readonly string[], secrets: readonly string[]): string[] {
  const parts = secrets.map((s) => (s.startsWith('co_') ? s.slice(12) : s)).filter((s) => s.length >= 8);
  return lines.filter((l) => parts.some((p) => l.includes(p))).map((l) => l.slice(0, 200));
}

// ---------------------------------------------------------------------------------------
// client load while a fault happens

export interface LoadResult {
  requests: number;
  byStatus: Record<string, number>;
  /** answers of 500 and above other than 503 (a 503 says "try again", which a client can act on) */
  errors: string[];
}

/**
 * `concurrency` clients looping over `requests` until stopped; every answer's status is
 * counted (a network error counts as "network"). Returns a stop function.
 */
export function loadWhile(
  baseUrl: string,
  key: string,
  requests: ReadonlyArray<{ method: string; path: string; body?: unknown }>,
  concurrency = 8,
): () => Promise<LoadResult> {
  const result: LoadResult = { requests: 0, byStatus: {}, errors: [] };
  let stopped = false;
  const loops = Array.from({ length: concurrency }, async (_, c) => {
    for (let i = c; !stopped; i++) {
      const r = requests[i % requests.length];
      let status: string;
      try {
        const res = await fetch(baseUrl + r.path, {
          method: r.method,
          headers: { authorization: `Bearer ${key}`, ...(r.body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: r.body === undefined ? undefined : JSON.stringify(r.body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        status = String(res.status);
        if (res.status >= 500 && res.status !== 503 && result.errors.length < 20) result.errors.push(`${r.method} ${r.path}: ${res.status} ${text.slice(0, 200)}`);
      } catch (err) {
        status = 'network';
        if (result.errors.length < 20) result.errors.push(`${r.method} ${r.path}: ${(err as Error).message}`);
      }
      result.requests++;
      result.byStatus[status] = (result.byStatus[status] ?? 0) + 1;
    }
  });
  return async () => {
    stopped = true;
    await Promise.all(loops);
    return result;
  };
}
