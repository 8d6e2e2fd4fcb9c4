import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from '../errors/error.filter';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Node's HTTP parser errors (before any route runs) as the API's error body. */
export function clientErrorBody(code: string | undefined): { status: number; body: ErrorBody } {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, body: { code: 'request.headers_too_large', message: `the request headers are larger than ${maxHeaderSize} bytes`, details: { limitBytes: maxHeaderSize } } };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    return { status: 408, body: { code: 'request.timeout', message: 'the request did not arrive in time', details: null } };
  }
  return { status: 400, body: { code: 'request.malformed_http', message: 'the request is not valid HTTP/1.1 (request line, header or framing)', details: { parserCode: code ?? null } } };
}

/**
 * Fastify's `clientErrorHandler`: answers what Node's parser refused (oversized headers, bad
 * bytes in the request line, broken chunking) in the documented shape, then closes.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, body } = clientErrorBody(err.code);
  const json = JSON.stringify(body);
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n`;
  socket.end(head + json, () => socket.destroy());
}

/**
 * Fastify's `frameworkErrors`: errors met while routing, before any hook runs. The only ones
 * Cutover can meet are a path that is not valid percent-encoded UTF-8 (FST_ERR_BAD_URL).
 */
export function onFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const bad = err.code === 'FST_ERR_BAD_URL';
  const body: ErrorBody = bad
    ? { code: 'request.bad_url', message: 'the URL path is not valid: a percent-encoded sequence is malformed or not UTF-8', details: { field: 'path' } }
    : { code: 'internal', message: 'unexpected error while routing the request', details: null };
  void reply
    .code(bad ? 400 : 500)
    .header('content-type', JSON_TYPE)
    .header('x-request-id', String(req.id))
    .send(JSON.stringify(body));
}
