import { ApiModule } from '../../src/api.module';
import { ApiKeysService } from '../../src/core/auth/api-keys.service';
import { createApiApp } from '../../src/core/http/create-api-app';
import { createTestEnvironment, LogSink, TestApi, type TestEnvironment } from '../support/app';

/** Who calls: the five roles and an anonymous client. */
export const IDENTITIES = ['none', 'evaluator', 'alerter', 'viewer', 'operator', 'admin'] as const;
export type Identity = (typeof IDENTITIES)[number];
export type Requirement = 'public' | 'evaluator' | 'alerter' | 'viewer' | 'operator' | 'admin';

/**
 * The least role each route needs, written down independently of the code's decorators.
 * viewer < operator < admin for the admin API; every key may evaluate. Keys are
 * "METHOD url" exactly as Fastify registers them; HEAD follows its GET. A route the running
 * app registers without an entry here fails the role-matrix test, so a new endpoint cannot
 * slip in without someone deciding who may call it.
 */
export const ROUTE_REQUIREMENTS: Record<string, Requirement> = {
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /health/dependencies': 'public',
  'GET /metrics': 'public',
  'GET /': 'public',
  'GET /dashboard/assets/:name': 'public',
  'GET /favicon.ico': 'public',
  'GET /docs/*': 'public',

  'GET /api/v1/keys/me': 'evaluator',
  'POST /ofrep/v1/evaluate/flags/:key': 'evaluator',
  'POST /ofrep/v1/evaluate/flags': 'evaluator',
  'GET /ofrep/v1/events': 'evaluator',

  'POST /api/v1/alerts': 'alerter',

  'GET /api/v1/audit': 'viewer',
  'GET /api/v1/flags': 'viewer',
  'GET /api/v1/flags/:key': 'viewer',
  'POST /api/v1/flags/:key/conversations/evaluate': 'viewer',
  'GET /api/v1/progress/campaigns': 'viewer',
  'GET /api/v1/campaigns': 'viewer',
  'GET /api/v1/campaigns/:id': 'viewer',
  'GET /api/v1/campaigns/:id/progress': 'viewer',
  'GET /api/v1/campaigns/:id/progress/history': 'viewer',
  'GET /api/v1/campaigns/:id/progress/stream': 'viewer',
  'GET /api/v1/campaigns/:id/ramp': 'viewer',
  'GET /api/v1/users/:id': 'viewer',
  'GET /api/v1/campaigns/:id/forecast': 'viewer',
  'GET /api/v1/campaigns/:id/explain': 'viewer',
  'GET /api/v1/campaigns/:id/users/:userId': 'viewer',
  'GET /api/v1/campaigns/:id/holds': 'viewer',
  'GET /api/v1/campaigns/:id/holds/:holdId': 'viewer',

  'POST /api/v1/flags': 'operator',
  'PATCH /api/v1/flags/:key': 'operator',
  'POST /api/v1/flags/:key/rollout': 'operator',
  'POST /api/v1/flags/:key/kill': 'operator',
  'POST /api/v1/flags/:key/revive': 'operator',
  'GET /api/v1/users/import': 'operator',
  'POST /api/v1/users/import': 'operator',
  'POST /api/v1/users/seed': 'operator',
  'PATCH /api/v1/users/:id': 'operator',
  'POST /api/v1/users/:id/recovery': 'operator',
  'POST /api/v1/campaigns': 'operator',
  'PATCH /api/v1/campaigns/:id': 'operator',
  'POST /api/v1/campaigns/:id/start': 'operator',
  'POST /api/v1/campaigns/:id/pause': 'operator',
  'POST /api/v1/campaigns/:id/resume': 'operator',
  'POST /api/v1/campaigns/:id/halt': 'operator',
  'POST /api/v1/campaigns/:id/complete': 'admin',
  'POST /api/v1/campaigns/:id/opt-in': 'operator',
  'POST /api/v1/campaigns/:id/retry-failed': 'operator',
  'PUT /api/v1/campaigns/:id/ramp': 'operator',
  'PUT /api/v1/campaigns/:id/guardrails': 'operator',
  'POST /api/v1/campaigns/:id/ramp/promote': 'operator',
  'POST /api/v1/campaigns/:id/promote': 'operator',
  'POST /api/v1/campaigns/:id/ramp/set-step': 'operator',
  'POST /api/v1/campaigns/:id/ramp/pause': 'operator',
  'POST /api/v1/campaigns/:id/ramp/resume': 'operator',
  'POST /api/v1/campaigns/:id/ramp/halt': 'operator',
  'POST /api/v1/campaigns/:id/holds': 'operator',
  'DELETE /api/v1/campaigns/:id/holds/:holdId': 'operator',

  'POST /api/v1/keys': 'admin',
  'POST /api/v1/webhooks': 'admin',
  'GET /api/v1/webhooks': 'admin',
  'GET /api/v1/webhooks/:id': 'admin',
  'PATCH /api/v1/webhooks/:id': 'admin',
  'DELETE /api/v1/webhooks/:id': 'admin',
  'GET /api/v1/webhooks/:id/deliveries': 'admin',
  'GET /api/v1/keys': 'admin',
  'POST /api/v1/keys/:id/revoke': 'admin',
  'POST /api/v1/flags/:key/archive': 'admin',
  'POST /api/v1/campaigns/:id/ramp/approve': 'admin',
  'POST /api/v1/campaigns/:id/approve': 'admin',
};

/** Who passes each requirement: the alerter role passes only its own routes (and operators may post alerts too). */
const PASSES: Record<Requirement, readonly Identity[]> = {
  public: IDENTITIES,
  evaluator: ['evaluator', 'viewer', 'operator', 'admin'],
  alerter: ['alerter', 'operator', 'admin'],
  viewer: ['viewer', 'operator', 'admin'],
  operator: ['operator', 'admin'],
  admin: ['admin'],
};

export function allowed(req: Requirement, who: Identity): boolean {
  return PASSES[req].includes(who);
}

/** The expectation of a route: HEAD follows its GET. */
export function requirementOf(route: string): Requirement | undefined {
  const [method, url] = route.split(' ');
  return ROUTE_REQUIREMENTS[route] ?? (method === 'HEAD' ? ROUTE_REQUIREMENTS[`GET ${url}`] : undefined);
}

/** A concrete URL for a route pattern, with parameters naming things that do not exist. */
export function concretePath(url: string, params: Record<string, string> = {}): string {
  return url
    .replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? DEFAULT_PARAMS[name] ?? 'x'))
    .replace(/\*$/, 'openapi.json');
}
const DEFAULT_PARAMS: Record<string, string> = { id: '987654321', holdId: '987654321', userId: '987654321', key: 'no-such-flag', name: 'no-such-asset.js' };

export interface RecordingApi {
  api: TestApi;
  /** every "METHOD url" Fastify registered after the app was built (a HEAD,GET pair is split) */
  routes: string[];
}

/**
 * The real API (as startTestApi builds it) with an onRoute hook installed before the
 * modules register their routes, so the test sees Fastify's whole route table.
 */
export async function startRecordingApi(environment: TestEnvironment | Record<string, string>, logLevel = 'warn'): Promise<RecordingApi> {
  const env = 'config' in environment ? (environment as TestEnvironment) : await createTestEnvironment(environment as Record<string, string>);
  const logs = new LogSink();
  const app = await createApiApp(ApiModule.forRoot(env.config) as never, env.config, logs.logger(logLevel));
  const routes: string[] = [];
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (r) => {
      for (const m of ([] as string[]).concat(r.method as string | string[])) routes.push(`${m} ${r.url}`);
    });
  await app.get(ApiKeysService).bootstrapKeys();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  return { api: new TestApi(app, `http://127.0.0.1:${address.port}`, env, logs), routes: [...new Set(routes)].sort() };
}

export interface ProbeResult {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One request that never hangs on a stream: the status and headers are read, then the
 * body is read for at most `bodyMs` (an error's body whole) and the connection is dropped.
 */
export async function probe(
  baseUrl: string,
  method: string,
  path: string,
  opts: { key?: string | null; body?: string | Buffer; headers?: Record<string, string>; bodyMs?: number } = {},
): Promise<ProbeResult> {
  const ctrl = new AbortController();
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const hard = setTimeout(() => ctrl.abort(), 20_000);
  try {
    const res = await fetch(baseUrl + path, { method, headers, body: opts.body, signal: ctrl.signal });
    // an error answer is never a stream: read it whole, so that its shape can be checked
    const text = await readSome(res, res.status >= 400 ? 10_000 : (opts.bodyMs ?? 1_000));
    return { status: res.status, headers: res.headers, text };
  } finally {
    clearTimeout(hard);
    ctrl.abort();
  }
}

async function readSome(res: Response, ms: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let out = '';
  const deadline = Date.now() + ms;
  try {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      const next = await Promise.race([reader.read(), new Promise<null>((r) => (timer = setTimeout(() => r(null), left)))]);
      clearTimeout(timer);
      if (next === null || next.done) break;
      out += dec.decode(next.value, { stream: true });
    }
  } catch {
    /* aborted stream: keep what arrived */
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return out;
}
