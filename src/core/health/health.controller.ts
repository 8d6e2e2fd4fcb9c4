import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { DependencyChecks } from './dependency-checks';
import { Readiness } from './readiness';

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly dependencies: DependencyChecks,
    private readonly readiness: Readiness,
  ) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'up' };
  }

  /**
   * Ready when this process can serve: the flag snapshot is loaded and the listener answers.
   * PostgreSQL and Redis are not part of it, so a dependency outage never takes every replica
   * out of the Service at once (evaluation answers from memory); see /health/dependencies.
   */
  @Get('ready')
  ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const { ready, checks } = this.readiness.check();
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'up' : 'down', checks };
  }

  /** Whether PostgreSQL and Redis answer; 503 naming which is down (monitoring, not a probe). */
  @Get('dependencies')
  async dependenciesUp(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = await this.dependencies.check();
    const up = checks.postgres === 'up' && checks.redis === 'up';
    void reply.status(up ? 200 : 503);
    return { status: up ? 'up' : 'down', checks };
  }
}
