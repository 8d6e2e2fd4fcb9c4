import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { DependencyChecks } from './dependency-checks';
import { z } from 'zod';
import { Documented } from '../http/openapi/api-docs.decorators';
import { Readiness } from './readiness';

const liveSchema = z.object({ status: z.literal('up') }).meta({ id: 'Liveness' });
const readySchema = z
  .object({ status: z.enum(['up', 'down']), checks: z.record(z.string(), z.enum(['ready', 'not_ready'])) })
  .meta({ id: 'Readiness' });
const dependenciesSchema = z
  .object({ status: z.enum(['up', 'down']), checks: z.object({ postgres: z.enum(['up', 'down']), redis: z.enum(['up', 'down']) }) })
  .meta({ id: 'Dependencies' });

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly dependencies: DependencyChecks,
    private readonly readiness: Readiness,
  ) {}

  @Documented('Liveness: the process answers', liveSchema)
  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'up' };
  }

  @Documented('Readiness: this process can serve (flag snapshot loaded); dependencies are not part of it', readySchema, { schema: readySchema, status: 503, description: 'not ready yet; `checks` names the condition' })
  @Get('ready')
  ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const { ready, checks } = this.readiness.check();
    void reply.status(ready ? 200 : 503);
    return { status: ready ? 'up' : 'down', checks };
  }

  @Documented('Whether PostgreSQL and Redis answer (monitoring, not a probe)', dependenciesSchema, { schema: dependenciesSchema, status: 503, description: 'a dependency is down; `checks` names it' })
  @Get('dependencies')
  async dependenciesUp(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = await this.dependencies.check();
    const up = checks.postgres === 'up' && checks.redis === 'up';
    void reply.status(up ? 200 : 503);
    return { status: up ? 'up' : 'down', checks };
  }
}
