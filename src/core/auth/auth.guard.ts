import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUBLIC_KEY, ROLES_KEY, type AuthedRequest } from './auth.decorators';
import type { Role } from './auth.types';
import { RequestAuth } from './request-auth';

/** Every route needs a key unless marked @Public(); @Roles sets the minimum role. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: RequestAuth,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role>(ROLES_KEY, targets) ?? 'admin';
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const actor = await this.auth.authenticate(req.headers.authorization, req.ip, required);
    req.actor = { ...actor, requestId: String(req.id) };
    return true;
  }
}
