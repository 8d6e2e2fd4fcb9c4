import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findHostileInput, normalizeText, truncateText } from '../validation/hostile-input';
import { ValidationError } from '../validation/zod.pipe';

/** Longest reason a kill switch keeps; longer ones are cut (reasonSchema's maximum). */
export const KILL_SWITCH_REASON_MAX = 2000;

interface GuardConfig {
  killSwitch?: boolean;
}

/**
 * Marks a kill-switch route (flag kill, campaign halt and pause): its `reason` never fails
 * it. NUL characters and lone surrogates in the reason become U+FFFD and an over-long one is
 * cut, before anything else runs; every other field is checked as on any route.
 */
export const KillSwitch = (): MethodDecorator => RouteConfig({ killSwitch: true } satisfies GuardConfig);

function isParsedJson(body: unknown): boolean {
  if (typeof body === 'string' || Array.isArray(body)) return true;
  if (typeof body !== 'object' || body === null) return false;
  const proto = Object.getPrototypeOf(body) as unknown;
  return proto === Object.prototype || proto === null;
}

function normalizeReason(body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const b = body as { reason?: unknown };
  if (typeof b.reason === 'string') b.reason = truncateText(normalizeText(b.reason), KILL_SWITCH_REASON_MAX);
}

/** The first unacceptable value of a request's path parameters, query string or parsed body. */
export function hostileInputOf(req: Pick<FastifyRequest, 'params' | 'query' | 'body'>): ValidationError | null {
  const issue =
    findHostileInput(req.params, 'params') ?? findHostileInput(req.query, 'query') ?? (isParsedJson(req.body) ? findHostileInput(req.body, 'body') : null);
  return issue ? new ValidationError([issue]) : null;
}

/**
 * One check for every route, before any handler, guard or pipe sees the request: text that
 * cannot be stored (NUL, lone surrogates), nesting past MAX_JSON_DEPTH and prototype keys
 * are a 400 naming the field. Streamed bodies (imports) check each line themselves.
 */
export function useInputGuard(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (req, _reply, done) => {
    if ((req.routeOptions.config as GuardConfig | undefined)?.killSwitch) normalizeReason(req.body);
    done(hostileInputOf(req) ?? undefined);
  });
}
