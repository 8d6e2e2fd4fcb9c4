import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../errors/domain-error';
import { RedisService } from '../redis/redis.service';
import { bearerToken } from './api-key-format';
import { ApiKeysService } from './api-keys.service';
import { PUBLIC_KEY, ROLES_KEY, type AuthedRequest } from './auth.decorators';
import type { Role } from './auth.types';
import { roleSatisfies, rolesAllowed } from './roles';

/** Every route needs a key unless marked @Public(); @Roles sets the minimum role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeysService,
    private readonly redis: RedisService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role>(ROLES_KEY, targets) ?? 'admin';
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(req.headers.authorization);
    const actor = token ? await this.keys.authenticate(token) : null;
    if (!actor) {
      await this.countFailure(req.ip);
      throw new UnauthorizedError(token ? 'unknown or revoked API key' : undefined);
    }
    req.actor = { ...actor, requestId: String(req.id) };
    if (actor.role === 'system' || !roleSatisfies(actor.role, required)) {
      throw new ForbiddenError(actor.role, rolesAllowed(required));
    }
    return true;
  }

  /** Failed authentications per client address and minute; past the limit the answer is 429. */
  private async countFailure(ip: string): Promise<void> {
    const key = this.redis.key('ratelimit', 'authfail', ip, Math.floor(Date.now() / 60_000));
    const n = await this.redis.client.incr(key);
    if (n === 1) await this.redis.client.expire(key, 120);
    if (n > this.config.auth.failedLimitPerMinute) {
      throw new TooManyRequestsError('auth.rate_limited', 'too many failed authentications from this address; retry later', 60);
    }
  }
}
