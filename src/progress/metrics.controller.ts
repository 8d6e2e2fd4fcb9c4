import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { Public } from '../core/auth/auth.decorators';
import { NotFoundError } from '../core/errors/domain-error';
import { MetricsService } from './metrics.service';
import { z } from 'zod';
import { Documented } from '../core/http/openapi/api-docs.decorators';

/**
 * Prometheus text format. Public on purpose: Prometheus (the chart's ServiceMonitor) scrapes
 * it without a secret; it holds counts, flag and campaign keys, never user data. Restrict it
 * at the ingress if the API is exposed beyond the cluster (docs/progress.md). With
 * HTTP_METRICS_PORT set it is served on that port only (MetricsHttpServer).
 */
@ApiTags('progress')
@Controller()
@Public()
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Documented('Prometheus metrics (text exposition format)', { schema: z.string(), contentType: 'text/plain' })
  @Get('metrics')
  @Header('cache-control', 'no-store')
  async metricsText(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    if (this.config.http.metricsPort > 0) throw new NotFoundError('route', 'GET /metrics (served on HTTP_METRICS_PORT)');
    const body = await this.metrics.render();
    void reply.type(this.metrics.contentType);
    return body;
  }
}
