import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { ForbiddenError, UnauthorizedError } from '../errors/domain-error';
import { RateLimits, type RateLimit } from '../rate-limit/rate-limits';
import { bearerToken } from './api-key-format';
import { ApiKeysService } from './api-keys.service';
import type { Actor, Role } from './auth.types';
import { roleSatisfies, rolesAllowed } from './roles';

/**
 * The key check of every authenticated request (the AuthGuard's and the OFREP routes'):
 * the bearer key must be known and its role must satisfy `required`. Failed authentications
 * are limited per client address and minute (`AUTH_FAILED_LIMIT_PER_MINUTE`, then 429
 * `auth.rate_limited`); a valid key is never limited.
 */
@Injectable()
export class RequestAuth {
  private readonly failures: RateLimit;

  constructor(
    private readonly keys: ApiKeysService,
    limits: RateLimits,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.failures = limits.create({
      name: 'authfail',
      points: config.auth.failedLimitPerMinute,
      durationSeconds: 60,
      code: 'auth.rate_limited',
      message: (_, s) => `too many failed authentications from this address; retry in ${s} s`,
    });
  }

  async authenticate(authorization: string | undefined, ip: string, required: Role): Promise<Actor> {
    const token = bearerToken(authorization);
    return this.admit(token ? await this.keys.authenticate(token) : null, ip, required, token ? 'unknown or revoked API key' : undefined);
  }

  /** The same check for an OFREP event-stream token (`?token=` of the bulk answer's `eventStreams`). */
  async authenticateStreamToken(token: string, ip: string, required: Role): Promise<Actor> {
    return this.admit(await this.keys.authenticateEventStreamToken(token), ip, required, 'unknown, forged or revoked event-stream token');
  }

  private async admit(actor: Actor | null, ip: string, required: Role, unknownMessage: string | undefined): Promise<Actor> {
    if (!actor) {
      await this.failures.consume(ip);
      throw new UnauthorizedError(unknownMessage);
    }
    if (actor.role === 'system' || !roleSatisfies(actor.role, required)) throw new ForbiddenError(actor.role, rolesAllowed(required));
    return actor;
  }
}
