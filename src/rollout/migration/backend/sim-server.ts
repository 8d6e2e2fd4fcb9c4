import { createServer, type IncomingMessage, type Server } from 'node:http';
import { z } from 'zod';
import { createRedis } from '../../../core/redis/redis.service';
import type { MigrationBackend } from './backend.port';
import { SimulatedBackend } from './simulated-backend';

const requestSchema = z.object({
  campaignId: z.string().min(1).max(40),
  users: z.array(z.object({ userId: z.string().regex(/^\d{1,20}$/), idempotencyKey: z.string().min(1).max(100) })).max(100_000),
});

/**
 * The simulated backend behind HTTP, speaking the protocol `HttpBackend` expects, so that
 * the HTTP client is tested against a real server. `node dist/src/rollout/migration/backend/sim-server.js`
 * reads SIM_* options from the command line: --port, --redis, --prefix, --latency-ms,
 * --transient, --permanent, --max-users-per-second.
 */
export function createSimServer(backend: MigrationBackend): Server {
  return createServer((req, res) => {
    void handle(backend, req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'internal', message: (err as Error)?.message ?? 'error' }));
      },
    );
  });
}

async function handle(backend: MigrationBackend, req: IncomingMessage): Promise<{ status: number; body: unknown }> {
  if (req.method === 'GET' && req.url === '/health') return { status: 200, body: { status: 'up' } };
  if (req.method !== 'POST' || req.url !== '/v1/enable-batch') return { status: 404, body: { code: 'not_found' } };
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return { status: 400, body: { code: 'malformed_json' } };
  }
  const parsed = requestSchema.safeParse(json);
  if (!parsed.success) return { status: 400, body: { code: 'validation_failed', issues: parsed.error.issues } };
  const batchKey = String(req.headers['idempotency-key'] ?? '');
  const results = await backend.enableBatch({ campaignId: parsed.data.campaignId, batchKey, users: parsed.data.users });
  return { status: 200, body: { results } };
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

async function main(): Promise<void> {
  const redis = createRedis(arg('redis', 'redis://127.0.0.1:6379'));
  const backend = new SimulatedBackend(redis, {
    keyPrefix: arg('prefix', 'cutover'),
    latencyMs: Number(arg('latency-ms', '20')),
    transientFailureRatio: Number(arg('transient', '0')),
    permanentFailureRatio: Number(arg('permanent', '0')),
    maxUsersPerSecond: Number(arg('max-users-per-second', '0')),
  });
  const server = createSimServer(backend);
  server.listen(Number(arg('port', '0')), '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${addr.port}` })}\n`);
  });
  const stop = () => server.close(() => void redis.quit().finally(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`sim-server failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
