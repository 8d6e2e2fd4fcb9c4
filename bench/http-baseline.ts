/**
 * The same-run baseline of the HTTP benches: a bare node:http server, in its own process,
 * that reads the request body and answers every request with the configured status, JSON
 * body and ETag (304 when If-None-Match matches), like the endpoint under test.
 */
import { createServer } from 'node:http';

const status = Number(process.env.BASELINE_STATUS ?? 200);
const body = process.env.BASELINE_BODY ?? '{}';
const etag = process.env.BASELINE_ETAG ?? '';

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
server.listen(Number(process.env.BASELINE_PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
