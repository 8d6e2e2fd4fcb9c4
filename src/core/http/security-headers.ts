import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Helmet's options for every route (the dashboard's scripts are same-origin files, no CSP needed for JSON). */
export const HELMET_OPTIONS = { contentSecurityPolicy: false } as const;

/**
 * The headers helmet sets with HELMET_OPTIONS, computed once at startup. With these options
 * they do not depend on the request, so hot routes (OFREP evaluation) set this object
 * themselves instead of running helmet's dozen middlewares per request (about 10% of an
 * evaluation's CPU), and still send exactly what every other route sends.
 */
export function staticSecurityHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const res = { setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value), removeHeader: () => undefined };
  let failed: unknown;
  helmet(HELMET_OPTIONS)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => void (failed = err));
  if (failed) throw new Error(`helmet refused its options: ${String(failed)}`);
  return Object.freeze(headers);
}
