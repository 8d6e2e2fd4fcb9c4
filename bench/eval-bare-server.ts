/**
 * The same-run baseline of `npm run bench:eval`: a bare Fastify server in its own process
 * answering the two OFREP paths with fixed JSON bodies (the bodies the real routes returned).
 */
import Fastify from 'fastify';

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  const single = process.env.BARE_SINGLE_BODY ?? '{}';
  const bulk = process.env.BARE_BULK_BODY ?? '{}';
  app.get('/__ready', async () => ({ ok: true }));
  app.post('/ofrep/v1/evaluate/flags/:key', async (_req, reply) => reply.type('application/json; charset=utf-8').send(single));
  app.post('/ofrep/v1/evaluate/flags', async (_req, reply) => reply.type('application/json; charset=utf-8').send(bulk));
  await app.listen({ port: Number(process.env.BARE_PORT), host: '127.0.0.1' });
}

main().catch((err: unknown) => {
  process.stderr.write(`bare server failed: ${String(err)}\n`);
  process.exit(1);
});
