import { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/** Keys whose values never reach a log line (API keys, connection strings with passwords). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'apiKey',
  'key',
  'secret',
  'password',
  '*.apiKey',
  '*.secret',
  '*.password',
];

const SECRET_QUERY_PARAM = /key|token|secret|password|passwd|auth|signature|credential/i;
const API_KEY_IN_TEXT = /co_[a-z0-9]{8}_[A-Za-z0-9_-]{20,}/g;

/**
 * A request URL fit for a log line: API keys anywhere in it and the values of query
 * parameters whose names suggest a secret (a client that put its key in `?api_key=`) are
 * replaced by [redacted].
 */
export function redactUrl(url: string): string {
  const masked = url.replace(API_KEY_IN_TEXT, '[redacted]');
  const q = masked.indexOf('?');
  if (q < 0) return masked;
  const query = masked
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        /* keep the raw name */
      }
      return eq >= 0 && SECRET_QUERY_PARAM.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${masked.slice(0, q)}?${query}`;
}

export function createLogger(level: string, name: string): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** Nest's logger interface on top of pino, so framework messages are structured too. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('LOGGER');
