/**
 * Per-route cost table: every /api/v1 route a client or operator calls at rate, driven by
 * autocannon one after the other against the real API (and a worker) on a scratch database,
 * with requests/s, latency and the API process's CPU per request (from /proc), next to a bare
 * Fastify handler measured in the same run (before the routes and after them; the table
 * compares with the mean of the two).   npm run bench:routes
 *
 * Operator actions taken once per change (start, pause, halt, kill, plan edits, key and
 * webhook administration) are not called at rate and are not in the table.
 */
import { Client } from 'pg';
import { runLoad, type AcRequest, type LoadResult } from './http-autocannon';
import { seedUsers, startCampaign, waitMaterialized, progressOf } from './http-campaign';
import { Stack, call, cpuMsOf, expectOk, fmt, printTable, runMain, startBaseline, CONNECTIONS } from './http-support';

const POPULATION = Number(process.env.BENCH_ROUTES_USERS ?? 200_000);
/** The rollout that the worker enables first: recovery reports come from these users. */
const ENABLED_PPM = 20_000;
const ROUTE_S = Number(process.env.BENCH_ROUTE_S ?? 5);

interface Route {
  name: string;
  method: string;
  ok: number[];
  path: () => string;
  body?: () => unknown;
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

function requestOf(r: Route, key: string): AcRequest {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (r.body) headers['content-type'] = 'application/json';
  return {
    method: r.method,
    path: r.path(),
    headers,
    ...(r.body ? { body: JSON.stringify(r.body()) } : {}),
    setupRequest: (req) => ({ ...req, path: r.path(), ...(r.body ? { body: JSON.stringify(r.body()) } : {}) }),
  };
}

async function enabledUsers(databaseUrl: string, limit: number): Promise<string[]> {
  const c = new Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return (await c.query<{ id: string }>(`SELECT user_id::text AS id FROM user_migrations WHERE state = 'enabled' LIMIT $1`, [limit])).rows.map((x) => x.id);
  } finally {
    await c.end();
  }
}

export const ROUTES_HEADER = ['route', 'req/s', 'p50 ms', 'p99 ms', 'API CPU ms/request', 'vs bare Fastify', 'checks ok'];

export async function benchRoutes(): Promise<{ rows: Array<Array<string | number>>; notes: string[] }> {
  const stack = await Stack.create({
    BACKEND_SIM_LATENCY_MS: '0',
    MIGRATION_OPT_IN_LIMIT_PER_SECOND: '1000000',
    MIGRATION_OPT_IN_LIMIT_PER_USER_PER_MINUTE: '100000',
    RAMP_PACE_CEILING_USERS_PER_SECOND: '100000000',
    RAMP_PACE_MIN_USERS_PER_SECOND: '100000000',
  });
  try {
    const api = await stack.startApi();
    await stack.startWorker();
    const key = stack.adminKey;
    const range = await seedUsers(api, key, POPULATION);
    const campaignId = await startCampaign(api, key, 'bench-routes', ENABLED_PPM, { batchSize: 2000 });
    await waitMaterialized(api, key, campaignId, range.toId - range.fromId + 1);
    const target = Math.floor((POPULATION * ENABLED_PPM) / 1_000_000 * 0.9);
    for (let i = 0; i < 600 && (await progressOf(api, key, campaignId)).counts.enabled < target; i++) await new Promise((ok) => setTimeout(ok, 500));
    const enabled = await enabledUsers(stack.databaseUrl, 50_000);
    if (enabled.length === 0) throw new Error('no enabled users for the recovery route');
    const userId = () => String(range.fromId + Math.floor(Math.random() * (range.toId - range.fromId + 1)));
    const c = campaignId;
    const routes: Route[] = [
      { name: 'GET /flags', method: 'GET', ok: [200], path: () => '/api/v1/flags?limit=50' },
      { name: 'GET /flags/:key', method: 'GET', ok: [200], path: () => '/api/v1/flags/bench-routes' },
      {
        name: 'POST /flags/:key/conversations/evaluate',
        method: 'POST',
        ok: [200],
        path: () => '/api/v1/flags/bench-routes/conversations/evaluate',
        body: () => ({ conversation: { id: `c${userId()}`, participants: [userId(), userId(), userId()] } }),
      },
      { name: 'GET /campaigns', method: 'GET', ok: [200], path: () => '/api/v1/campaigns?limit=50' },
      { name: 'GET /campaigns/:id', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}` },
      { name: 'GET /campaigns/:id/progress', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}/progress` },
      { name: 'GET /campaigns/:id/progress/history', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}/progress/history` },
      { name: 'GET /progress/campaigns', method: 'GET', ok: [200], path: () => '/api/v1/progress/campaigns' },
      { name: 'GET /campaigns/:id/ramp', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}/ramp` },
      { name: 'GET /campaigns/:id/forecast', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}/forecast?percent=50` },
      { name: 'GET /campaigns/:id/explain', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}/explain` },
      { name: 'GET /campaigns/:id/holds', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}/holds` },
      { name: 'GET /campaigns/:id/users/:userId', method: 'GET', ok: [200], path: () => `/api/v1/campaigns/${c}/users/${userId()}` },
      { name: 'GET /users/:id', method: 'GET', ok: [200], path: () => `/api/v1/users/${userId()}` },
      { name: 'GET /audit', method: 'GET', ok: [200], path: () => '/api/v1/audit?limit=50' },
      { name: 'GET /keys/me', method: 'GET', ok: [200], path: () => '/api/v1/keys/me' },
      { name: 'GET /webhooks', method: 'GET', ok: [200], path: () => '/api/v1/webhooks' },
      { name: 'POST /campaigns/:id/opt-in', method: 'POST', ok: [200], path: () => `/api/v1/campaigns/${c}/opt-in`, body: () => ({ userId: userId() }) },
      { name: 'POST /users/:id/recovery', method: 'POST', ok: [200], path: () => `/api/v1/users/${pick(enabled)}/recovery`, body: () => ({ method: pick(['pin', 'recovery_code', 'cloud_backup', 'device_keychain']) }) },
      { name: 'PATCH /users/:id', method: 'PATCH', ok: [200], path: () => `/api/v1/users/${userId()}`, body: () => ({ appVersion: `9.${Math.floor(Math.random() * 100)}.0` }) },
    ];
    // each route once before it is measured: a failing route stops the bench with its answer
    for (const r of routes) expectOk(await call(api.url, r.method, r.path(), { key, ...(r.body ? { body: r.body() } : {}) }), r.name, r.ok);

    const base = await startBaseline({ status: 200, body: '{"ok":true}', kind: 'fastify' });
    const baseRoute: Route = { name: 'bare Fastify POST', method: 'POST', ok: [200], path: () => '/bare', body: () => ({ userId: userId() }) };
    const bare = async (): Promise<{ r: LoadResult; cpu: number }> => {
      const cpu0 = cpuMsOf(base.process);
      const r = await runLoad(base.url, [requestOf(baseRoute, key)], (s) => s === 200, { duration: ROUTE_S });
      return { r, cpu: (cpuMsOf(base.process) - cpu0) / Math.max(1, r.checked) };
    };
    const before = await bare();
    const measured: Array<{ route: Route; r: LoadResult; cpu: number }> = [];
    for (const route of routes) {
      const cpu0 = cpuMsOf(api.process);
      const r = await runLoad(api.url, [requestOf(route, key)], (s) => route.ok.includes(s), { duration: ROUTE_S });
      measured.push({ route, r, cpu: (cpuMsOf(api.process) - cpu0) / Math.max(1, r.checked) });
      if (r.failedChecks > 0) process.stderr.write(`${route.name}: first failed check: ${r.firstFailure}\n`);
    }
    const after = await bare();
    await base.stop();
    const bareRate = (before.r.reqPerSec + after.r.reqPerSec) / 2;
    const rows = measured.map(({ route, r, cpu }) => [route.name, r.reqPerSec, r.p50, r.p99, fmt(cpu), `${(r.reqPerSec / bareRate).toFixed(3)}×`, `${r.checked - r.failedChecks}/${r.checked}`]);
    rows.push(['bare Fastify POST (before, after)', `${fmt(before.r.reqPerSec)}, ${fmt(after.r.reqPerSec)}`, before.r.p50, before.r.p99, fmt((before.cpu + after.cpu) / 2), '1×', `${before.r.checked + after.r.checked}/${before.r.checked + after.r.checked}`]);
    return {
      rows,
      notes: [
        `population ${POPULATION.toLocaleString('en-US')} users, ${enabled.length.toLocaleString('en-US')} enabled; ${CONNECTIONS} connections, ${ROUTE_S} s per route; API CPU is the API process's user+system time over the route's run divided by its answers.`,
      ],
    };
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  runMain(async () => {
    const { rows, notes } = await benchRoutes();
    printTable('Per-route cost: /api/v1 routes called at rate, next to a bare Fastify POST handler (same run)', ROUTES_HEADER, rows);
    process.stdout.write(`${notes.join('\n')}\n`);
  });
}
