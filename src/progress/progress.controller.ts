import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Roles } from '../core/auth/auth.decorators';
import { ZodParam, ZodQuery } from '../core/validation/zod.pipe';
import { ProgressStreamHub } from './progress-stream.hub';
import {
  campaignRefParamSchema,
  historyQuerySchema,
  overviewQuerySchema,
  type CampaignRefParam,
  type HistoryQuery,
  type OverviewQuery,
} from './progress.schemas';
import { ProgressService } from './progress.service';
import { Documented } from '../core/http/openapi/api-docs.decorators';
import { progressHistorySchema, progressOverviewSchema, progressSchema, progressStreamSchema } from './progress.responses';

@ApiTags('progress')
@Controller('api/v1')
@Roles('viewer')
export class ProgressController {
  constructor(
    private readonly progress: ProgressService,
    private readonly hub: ProgressStreamHub,
  ) {}

  @Documented('Every campaign with its counts, newest first (keyset pages)', progressOverviewSchema)
  @Get('progress/campaigns')
  overview(@Query(new ZodQuery(overviewQuerySchema)) q: OverviewQuery) {
    return this.progress.overview(q);
  }

  @Documented('A campaign\'s progress: counts, admission, throughput, ETA, failures, backlog, ramp, guardrails', progressSchema)
  @Get('campaigns/:id/progress')
  get(@Param(new ZodParam(campaignRefParamSchema)) p: CampaignRefParam) {
    return this.progress.getProgress(p.id);
  }

  @Documented('Progress samples over time (raw, per minute, per hour or mixed)', progressHistorySchema)
  @Get('campaigns/:id/progress/history')
  history(@Param(new ZodParam(campaignRefParamSchema)) p: CampaignRefParam, @Query(new ZodQuery(historyQuerySchema)) q: HistoryQuery) {
    return this.progress.history(p.id, q);
  }

  /**
   * Server-sent events: `event: progress` with the progress document every second while the
   * campaign runs (on change otherwise), `: heartbeat` comments in between. Needs
   * `Authorization: Bearer` like every route; browsers read it with fetch streaming.
   */
  @Documented('Progress as server-sent events', { schema: progressStreamSchema, contentType: 'text/event-stream' })
  @Get('campaigns/:id/progress/stream')
  async stream(@Param(new ZodParam(campaignRefParamSchema)) p: CampaignRefParam, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const campaign = await this.progress.getCampaign(p.id);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(req.id),
    });
    res.write('retry: 3000\n\n');
    let closed = false;
    let unsubscribe: (() => void) | undefined;
    res.on('close', () => {
      closed = true;
      unsubscribe?.();
    });
    const sub = { write: (chunk: string) => void res.write(chunk), end: () => res.end() };
    try {
      unsubscribe = await this.hub.subscribe(campaign.id, sub);
      if (closed) unsubscribe();
    } catch (err) {
      req.log.warn({ err }, 'progress stream could not start');
      res.end();
    }
  }
}
