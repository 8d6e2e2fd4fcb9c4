/** One error of a chain: the thrown value, its causes, and the driver error a Prisma error wraps. */
export type ChainLink = { kind?: string; code?: unknown; originalCode?: unknown; meta?: { code?: unknown; driverAdapterError?: unknown }; message?: unknown; cause?: unknown };

/** The error, its cause chain, and the driver error a Prisma error wraps (meta.driverAdapterError). */
export function errorChain(err: unknown): ChainLink[] {
  const queue: unknown[] = [err];
  const out: ChainLink[] = [];
  for (let i = 0; i < queue.length && i < 8; i++) {
    const e = queue[i];
    if (typeof e !== 'object' || e === null) continue;
    const x = e as ChainLink;
    out.push(x);
    queue.push(x.cause, x.meta?.driverAdapterError);
  }
  return out;
}

/** The codes a link carries: a SQLSTATE (pg, driver adapter) or a Prisma code (Pxxxx). */
export function codesOf(x: ChainLink): string[] {
  return [x.code, x.originalCode, x.meta?.code].filter((c): c is string => typeof c === 'string');
}

export function hasCode(err: unknown, pattern: RegExp): boolean {
  return errorChain(err).some((x) => codesOf(x).some((c) => pattern.test(c)));
}

/**
 * PostgreSQL (or Prisma for it) gave up on the request for a concurrent transaction:
 * serialization failure, deadlock, lock not available (lock_timeout), Prisma's write conflict
 * and its expired interactive transaction (it waited on locks past its timeout). Nothing was
 * written; the same request may succeed when retried.
 */
export const TRANSIENT_CONFLICT = /^(40001|40P01|55P03|P2028|P2034)$/;

/** lock_not_available: a statement ran into its lock_timeout. */
export const LOCK_TIMEOUT = /^55P03$/;
