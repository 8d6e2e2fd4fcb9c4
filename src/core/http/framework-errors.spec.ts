import Fastify from 'fastify';
import { connect } from 'node:net';
import { clientErrorBody, onClientError, onFrameworkError } from './framework-errors';

/** Writes raw bytes on one connection and collects everything the server sends back. */
function exchange(port: number, bytes: string, untilMs: () => Promise<void>): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (c) => (out += c.toString()));
    s.on('error', () => undefined);
    s.write(bytes);
    void untilMs().then(() => {
      s.destroy();
      resolve(out);
    });
  });
}

const pause = (ms: number) => () => new Promise<void>((r) => setTimeout(r, ms));

describe("answers of Fastify's and Node's own layers", () => {
  it('maps parser errors to the documented shape', () => {
    expect(clientErrorBody('HPE_HEADER_OVERFLOW')).toMatchObject({ status: 431, body: { code: 'request.headers_too_large', details: { limitBytes: expect.any(Number) } } });
    expect(clientErrorBody('ERR_HTTP_REQUEST_TIMEOUT')).toMatchObject({ status: 408, body: { code: 'request.timeout', details: null } });
    expect(clientErrorBody('HPE_INVALID_METHOD')).toMatchObject({ status: 400, body: { code: 'request.malformed_http', details: { parserCode: 'HPE_INVALID_METHOD' } } });
  });

  it('answers bad bytes and bad URL encoding as {code, message, details}', async () => {
    const app = Fastify({ clientErrorHandler: onClientError, frameworkErrors: onFrameworkError });
    app.get('/x/:p', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    try {
      const bad = await exchange(port, 'G\u0001T / HTTP/1.1\r\nHost: x\r\n\r\n', pause(300));
      expect(bad).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'request.malformed_http', message: expect.any(String), details: { parserCode: expect.any(String) } });
      const url = await exchange(port, 'GET /x/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', pause(300));
      expect(url).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(url.slice(url.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'request.bad_url', message: expect.any(String), details: { field: 'path' } });
    } finally {
      await app.close();
    }
  });
});
