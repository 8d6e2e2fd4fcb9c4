import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Actor, Role } from './auth.types';

export const ROLES_KEY = 'cutover:roles';
export const PUBLIC_KEY = 'cutover:public';

/** The minimum role a route needs (see roles.ts for what satisfies it). */
export const Roles = (role: Role) => SetMetadata(ROLES_KEY, role);

/** A route anyone may call (health, docs, the dashboard page itself). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export type AuthedRequest = FastifyRequest & { actor?: Actor };

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.actor) throw new Error('CurrentActor used on a route without authentication');
  return req.actor;
});
