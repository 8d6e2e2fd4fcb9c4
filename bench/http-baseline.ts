/**
 * The same-run baseline of the HTTP benches: a bare server, in its own process, that reads
 * the request body and answers every request with the configured status, JSON body and ETag
 * (304 when If-None-Match matches), like the endpoint under test. node:http by default;
 * BASELINE_KIND=fastify serves the same answer from a bare Fastify POST handler (the baseline
 * the write-path benches compare with: the framework the API runs on, minus the API).
 */
import { createServer } from 'node:http';
import Fastify from 'fastify';

const status = Number(process.env.BASELINE_STATUS ?? 200);
const body = process.env.BASELINE_BODY ?? '{}';
const etag = process.env.BASELINE_ETAG ?? '';
const port = Number(process.env.BASELINE_PORT ?? 0);

if (process.env.BASELINE_KIND === 'fastify') {
  const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
  app.get('/__ready', async () => 'ok');
  app.post('/*', async (_req, reply) => reply.code(status).header('content-type', 'application/json; charset=utf-8').send(body));
  void app.listen({ port, host: '127.0.0.1' });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
} else {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/__ready') return void res.writeHead(200).end('ok');
      // parse like the API would, so the baseline pays for reading the request too
      if (chunks.length > 0) JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (etag && req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (etag) headers.etag = etag;
      res.writeHead(status, headers).end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
