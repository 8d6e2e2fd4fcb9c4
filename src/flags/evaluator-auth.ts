import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { bearerToken } from '../core/auth/api-key-format';
import { ApiKeysService } from '../core/auth/api-keys.service';
import type { Actor } from '../core/auth/auth.types';
import { roleSatisfies, rolesAllowed } from '../core/auth/roles';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../core/errors/domain-error';
import { RedisService } from '../core/redis/redis.service';

/** How long a verified key is trusted without re-hashing it (revocations land within this + the key cache's 5 s). */
const VERIFIED_TTL_MS = 1_000;
const VERIFIED_MAX = 10_000;

/**
 * The AuthGuard's rules for the OFREP routes, which run as plain Fastify routes (see
 * ofrep.routes.ts): same cached key lookup, same `evaluator`-or-higher check, same
 * per-address failure limit (the Redis key is shared with the guard's). A key verified in
 * the last second skips the SHA-256 (the largest own cost of an evaluation request).
 */
@Injectable()
export class EvaluatorAuth {
  private readonly verified = new Map<string, { actor: Actor; until: number }>();
  /** Authorization header → its key's event-stream token (stable for the key's life). */
  private readonly tokens = new Map<string, string | null>();

  constructor(
    private readonly keys: ApiKeysService,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(req: FastifyRequest): Promise<Actor> {
    return this.checkHeader(req, req.headers.authorization);
  }

  /**
   * The event stream also takes the token its URL carries (`?token=`, from the bulk answer's
   * `eventStreams`): browsers' EventSource cannot send an Authorization header.
   */
  async checkStream(req: FastifyRequest): Promise<Actor> {
    const token = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || req.headers.authorization) return this.checkHeader(req, req.headers.authorization);
    const actor = await this.keys.authenticateEventStreamToken(token);
    if (!actor) {
      await this.countFailure(req.ip);
      throw new UnauthorizedError('unknown, forged or revoked event-stream token');
    }
    return this.authorize(actor);
  }

  /** The event-stream token of a key that `check` has just verified. */
  async streamToken(header: string): Promise<string | null> {
    const known = this.tokens.get(header);
    if (known !== undefined) return known;
    const token = bearerToken(header);
    const stream = token ? await this.keys.eventStreamToken(token) : null;
    if (this.tokens.size >= VERIFIED_MAX) this.tokens.clear();
    this.tokens.set(header, stream);
    return stream;
  }

  private async checkHeader(req: FastifyRequest, header: string | undefined): Promise<Actor> {
    const now = Date.now();
    const hit = header ? this.verified.get(header) : undefined;
    if (hit && hit.until > now) return hit.actor;
    const token = bearerToken(header);
    const actor = token ? await this.keys.authenticate(token) : null;
    if (!actor) {
      await this.countFailure(req.ip);
      throw new UnauthorizedError(token ? 'unknown or revoked API key' : undefined);
    }
    this.authorize(actor);
    if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
    this.verified.set(header!, { actor, until: now + VERIFIED_TTL_MS });
    return actor;
  }

  private authorize(actor: Actor): Actor {
    if (actor.role === 'system' || !roleSatisfies(actor.role, 'evaluator')) throw new ForbiddenError(actor.role, rolesAllowed('evaluator'));
    return actor;
  }

  private async countFailure(ip: string): Promise<void> {
    const key = this.redis.key('ratelimit', 'authfail', ip, Math.floor(Date.now() / 60_000));
    const n = await this.redis.client.incr(key);
    if (n === 1) await this.redis.client.expire(key, 120);
    if (n > this.config.auth.failedLimitPerMinute) {
      throw new TooManyRequestsError('auth.rate_limited', 'too many failed authentications from this address; retry later', 60);
    }
  }
}
