import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { DependencyChecks } from './dependency-checks';

@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(private readonly dependencies: DependencyChecks) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'up' };
  }

  /** Ready when PostgreSQL and Redis both answer; 503 otherwise, naming which is down. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = await this.dependencies.check();
    const up = checks.postgres === 'up' && checks.redis === 'up';
    void reply.status(up ? 200 : 503);
    return { status: up ? 'up' : 'down', checks };
  }
}
