import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { ZodError } from 'zod';
import { DomainError, ServiceUnavailableError, TooManyRequestsError } from './domain-error';
import { TRANSIENT_CONFLICT, codesOf, errorChain, hasCode } from './error-chain';
import { zodIssues } from '../validation/zod.pipe';

/** The one error shape of every 4xx and 5xx; `details` is always present (null when there is nothing more to say). */
export interface ErrorBody {
  code: string;
  message: string;
  details: unknown;
}

interface KnownFastifyError {
  status: number;
  code: string;
  message: string;
  /** the start of Fastify's own message, for errors that reach us re-thrown by Nest without their code */
  prefix: string;
}

/** Fastify's own request errors (parsing, size) mapped to our codes. */
const FASTIFY_CODES: Record<string, KnownFastifyError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'request.body_too_large', message: 'request body is larger than the configured limit (HTTP_BODY_LIMIT_BYTES)', prefix: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'request.unsupported_media_type', message: 'send JSON with Content-Type: application/json', prefix: 'Unsupported Media Type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'request.empty_body', message: 'the body is empty but Content-Type is application/json', prefix: 'Body cannot be empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'request.malformed_json', message: 'the body is not valid JSON', prefix: 'Body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'request.invalid_content_length', message: 'Content-Length does not match the body', prefix: 'Request body size did not match' },
  FST_ERR_BAD_URL: { status: 400, code: 'request.bad_url', message: 'the URL path is not valid percent-encoded UTF-8', prefix: "'" },
};
const KNOWN = Object.values(FASTIFY_CODES);

function fastifyCode(err: unknown): KnownFastifyError | undefined {
  return typeof err === 'object' && err !== null ? FASTIFY_CODES[(err as { code?: string }).code ?? ''] : undefined;
}

/** Nest re-throws Fastify's request errors as bare HttpExceptions (message and status only); recover our codes. */
function httpExceptionBody(status: number, message: string): ErrorBody {
  const known = KNOWN.find((f) => f.status === status && message.startsWith(f.prefix));
  if (known) return { code: known.code, message: known.message, details: null };
  const code = status === 404 ? 'http.not_found' : status === 405 ? 'http.method_not_allowed' : `http.${status}`;
  return { code, message, details: null };
}

const UNAVAILABLE_KINDS = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'SocketTimeout', 'TooManyConnections']);
/** admin_shutdown, crash_shutdown, cannot_connect_now, connection exceptions, too many connections */
const UNAVAILABLE_SQLSTATE = /^(57P0[1-3]|08\d{3}|53300)$/;
/** Prisma: can't reach, timed out, server closed the connection, pool timeout */
const UNAVAILABLE_PRISMA = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** pg, ioredis and pg-pool (no pool connection within DATABASE_POOL_TIMEOUT_MS) */
const UNAVAILABLE_MESSAGE = /^(Connection terminated|Connection is closed|terminating connection due to administrator command|timeout exceeded when trying to connect)/;

/**
 * A dependency (PostgreSQL, Redis) dropped or refused the connection under this request: the
 * request may succeed if retried, so the answer is 503 with Retry-After, not a 500.
 */
function dependencyUnavailable(err: unknown): boolean {
  return errorChain(err).some(
    (x) =>
      (typeof x.kind === 'string' && UNAVAILABLE_KINDS.has(x.kind)) ||
      codesOf(x).some((c) => UNAVAILABLE_SQLSTATE.test(c) || UNAVAILABLE_PRISMA.has(c)) ||
      (typeof x.message === 'string' && UNAVAILABLE_MESSAGE.test(x.message)),
  );
}


/** Maps any thrown value to `{ status, body }`; unexpected errors get an errorId, logged once. */
export function toErrorResponse(err: unknown, log: Logger): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof DomainError) {
    const headers = err instanceof TooManyRequestsError || err instanceof ServiceUnavailableError ? { 'retry-after': String(err.retryAfterSeconds) } : undefined;
    return { status: err.status, body: { code: err.code, message: err.message, details: err.details ?? null }, headers };
  }
  if (err instanceof ZodError) {
    const issues = zodIssues(err);
    return { status: 400, body: { code: 'request.validation_failed', message: issues.map((i) => `${i.field}: ${i.message}`).join('; '), details: issues } };
  }
  const fst = fastifyCode(err) ?? fastifyCode((err as { cause?: unknown } | null)?.cause);
  if (fst) return { status: fst.status, body: { code: fst.code, message: fst.message, details: null } };
  if (err instanceof SyntaxError && (err as { statusCode?: number }).statusCode === 400) {
    return { status: 400, body: { code: 'request.malformed_json', message: 'the body is not valid JSON', details: null } };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    if (status < 500) {
      return { status, body: httpExceptionBody(status, err.message) };
    }
  }
  const statusCode = (err as { statusCode?: number } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, body: { code: `http.${statusCode}`, message: (err as Error).message, details: null } };
  }
  if (dependencyUnavailable(err)) {
    log.warn(`a dependency was unavailable during the request: ${(err as Error)?.message ?? String(err)}`);
    return { status: 503, body: { code: 'service.unavailable', message: 'a backing service (database or Redis) is unavailable; retry shortly', details: { retryAfterSeconds: 1 } }, headers: { 'retry-after': '1' } };
  }
  if (hasCode(err, TRANSIENT_CONFLICT)) {
    // nothing was written (the transaction was rolled back); logged, since a deadlock is a lock-order bug to fix
    log.warn(`a concurrent transaction conflicted with the request: ${(err as Error)?.message ?? String(err)}`);
    return { status: 503, body: { code: 'service.contention', message: 'a concurrent change conflicted with this request; nothing was written, retry it', details: { retryAfterSeconds: 1 } }, headers: { 'retry-after': '1' } };
  }
  const errorId = randomUUID();
  // one string: Nest's Logger prints an object first argument as "[object Object]"
  log.error(`unexpected error ${errorId}: ${(err as Error)?.stack ?? String(err)}`);
  return { status: 500, body: { code: 'internal', message: 'unexpected error; quote the errorId when reporting', details: { errorId } } };
}

@Catch()
export class AllErrorsFilter implements ExceptionFilter {
  private readonly log = new Logger('errors');

  catch(err: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const req = ctx.getRequest<FastifyRequest>();
    const { status, body, headers } = toErrorResponse(err, this.log);
    if (reply.sent) return;
    if (headers) void reply.headers(headers);
    void reply.status(status).header('x-request-id', String(req.id)).send(body);
  }
}
