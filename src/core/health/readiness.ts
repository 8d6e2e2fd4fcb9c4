import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ServiceUnavailableError } from '../errors/domain-error';
import { RedisService } from '../redis/redis.service';

/**
 * What this process needs before it can serve, as named conditions that features register
 * (the flag snapshot is loaded, ...). Dependencies are not among them: an API replica whose
 * Redis or PostgreSQL is down still evaluates flags from memory, so it stays in the Service.
 */
@Injectable()
export class Readiness {
  private readonly conditions = new Map<string, () => boolean>();

  register(name: string, isReady: () => boolean): void {
    this.conditions.set(name, isReady);
  }

  check(): { ready: boolean; checks: Record<string, 'ready' | 'not_ready'> } {
    const checks: Record<string, 'ready' | 'not_ready'> = {};
    for (const [name, isReady] of this.conditions) checks[name] = isReady() ? 'ready' : 'not_ready';
    return { ready: Object.values(checks).every((c) => c === 'ready'), checks };
  }
}

const SERVES_WITHOUT_REDIS = 'cutover:serves-without-redis';

/** A POST that only reads (an evaluation): it keeps answering while Redis is down. */
export const ServesWithoutRedis = () => SetMetadata(SERVES_WITHOUT_REDIS, true);

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Writes fail fast with 503 while the Redis connection is down: each publishes a change, queues
 * a job or counts a rate limit there, and the command connection would otherwise hold the
 * request until Redis returns. Reads and evaluations go on. Runs after authentication.
 */
@Injectable()
export class WritesNeedRedisGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly redis: RedisService,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const method = ctx.switchToHttp().getRequest<FastifyRequest>().method;
    if (!WRITES.has(method) || this.redis.connected) return true;
    if (this.reflector.getAllAndOverride<boolean>(SERVES_WITHOUT_REDIS, [ctx.getHandler(), ctx.getClass()])) return true;
    throw new ServiceUnavailableError('service.redis_unavailable', 'Redis is unreachable: writes are refused until it is back (evaluation keeps answering); retry shortly', { dependency: 'redis' });
  }
}
