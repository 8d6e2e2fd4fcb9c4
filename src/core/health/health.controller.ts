import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { DependencyChecks } from './dependency-checks';
import { z } from 'zod';
import { Documented } from '../http/openapi/api-docs.decorators';

const liveSchema = z.object({ status: z.literal('up') }).meta({ id: 'Liveness' });
const readySchema = z
  .object({ status: z.enum(['up', 'down']), checks: z.object({ postgres: z.enum(['up', 'down']), redis: z.enum(['up', 'down']) }) })
  .meta({ id: 'Readiness' });

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(private readonly dependencies: DependencyChecks) {}

  @Documented('Liveness: the process answers', liveSchema)
  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'up' };
  }

  @Documented('Readiness: PostgreSQL and Redis both answer', readySchema, { schema: readySchema, status: 503, description: 'a dependency is down; `checks` names it' })
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = await this.dependencies.check();
    const up = checks.postgres === 'up' && checks.redis === 'up';
    void reply.status(up ? 200 : 503);
    return { status: up ? 'up' : 'down', checks };
  }
}
