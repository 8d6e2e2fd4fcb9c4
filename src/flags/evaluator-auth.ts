import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../core/auth/api-key-format';
import { ApiKeysService } from '../core/auth/api-keys.service';
import type { Actor } from '../core/auth/auth.types';
import { RequestAuth } from '../core/auth/request-auth';

/** How long a verified key is trusted without re-hashing it (revocations land within this + the key cache's 5 s). */
const VERIFIED_TTL_MS = 1_000;
const VERIFIED_MAX = 10_000;

/**
 * The AuthGuard's check for the OFREP routes, which run as plain Fastify routes (see
 * ofrep.routes.ts): `evaluator` or higher, the same failed-authentication limit. A key
 * verified in the last second skips the SHA-256 (the largest own cost of an evaluation request).
 */
@Injectable()
export class EvaluatorAuth {
  private readonly verified = new Map<string, { actor: Actor; until: number }>();
  /** Authorization header → its key's event-stream token (stable for the key's life). */
  private readonly tokens = new Map<string, string | null>();

  constructor(
    private readonly auth: RequestAuth,
    private readonly keys: ApiKeysService,
  ) {}

  async check(req: FastifyRequest): Promise<Actor> {
    const header = req.headers.authorization;
    const now = Date.now();
    const hit = header ? this.verified.get(header) : undefined;
    if (hit && hit.until > now) return hit.actor;
    const actor = await this.auth.authenticate(header, req.ip, 'evaluator');
    if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
    this.verified.set(header!, { actor, until: now + VERIFIED_TTL_MS });
    return actor;
  }

  /**
   * The event stream also takes the token its URL carries (`?token=`, from the bulk answer's
   * `eventStreams`): browsers' EventSource cannot send an Authorization header.
   */
  async checkStream(req: FastifyRequest): Promise<Actor> {
    const token = (req.query as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || req.headers.authorization) return this.check(req);
    return this.auth.authenticateStreamToken(token, req.ip, 'evaluator');
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
}
