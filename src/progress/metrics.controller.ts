import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../core/auth/auth.decorators';
import { MetricsService } from './metrics.service';
import { z } from 'zod';
import { Documented } from '../core/http/openapi/api-docs.decorators';

/**
 * Prometheus text format. Public on purpose: Prometheus (the chart's ServiceMonitor) scrapes
 * it without a secret; it holds counts, flag and campaign keys, never user data. Restrict it
 * at the ingress if the API is exposed beyond the cluster (docs/progress.md).
 */
@ApiTags('progress')
@Controller()
@Public()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Documented('Prometheus metrics (text exposition format)', { schema: z.string(), contentType: 'text/plain' })
  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metricsText(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const body = await this.metrics.render();
    void reply.type(this.metrics.contentType);
    return body;
  }
}
