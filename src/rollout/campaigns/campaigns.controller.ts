import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentActor, Roles } from '../../core/auth/auth.decorators';
import type { Actor } from '../../core/auth/auth.types';
import { etagFor, versionFromIfMatch } from '../../core/http/etag';
import { KillSwitch } from '../../core/http/input-guard';
import { toJsonSafe } from '../../core/json';
import { ZodBody, ZodParam, ZodQuery } from '../../core/validation/zod.pipe';
import {
  actionBodySchema,
  campaignRefSchema,
  completeBodySchema,
  createCampaignSchema,
  haltBodySchema,
  listCampaignsSchema,
  patchCampaignSchema,
  type ActionBodyInput,
  type CampaignRefInput,
  type CompleteBodyInput,
  type CreateCampaignInput,
  type HaltBodyInput,
  type ListCampaignsInput,
  type PatchCampaignInput,
} from './campaigns.schemas';
import { CampaignsService } from './campaigns.service';
import type { Campaign, CampaignAction } from './campaigns.types';
import { Documented } from '../../core/http/openapi/api-docs.decorators';
import { campaignPageSchema, campaignSchema } from './campaigns.responses';

function send(reply: FastifyReply, c: Campaign, status = 200): unknown {
  void reply.status(status).header('etag', etagFor(c.version));
  return toJsonSafe(c);
}

@ApiTags('campaigns')
@Controller('api/v1/campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  @Documented('Create a campaign (draft) for an admission flag', campaignSchema)
  @Post()
  @Roles('operator')
  async create(@Body(new ZodBody(createCampaignSchema)) body: CreateCampaignInput, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.campaigns.create(body, actor), 201);
  }

  @Documented('List campaigns, newest first (keyset pages)', campaignPageSchema)
  @Get()
  @Roles('viewer')
  async list(@Query(new ZodQuery(listCampaignsSchema)) q: ListCampaignsInput) {
    const items = await this.campaigns.list({ status: q.status, after: q.cursor, limit: q.limit });
    return { items: toJsonSafe(items), nextCursor: items.length === q.limit ? String(items[items.length - 1].id) : null };
  }

  @Documented('Read a campaign by id or key; its ETag is the version', campaignSchema)
  @Get(':id')
  @Roles('viewer')
  async get(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.campaigns.get(p.id));
  }

  @Documented('Change name, description, population filter or pacing (If-Match)', campaignSchema)
  @Patch(':id')
  @Roles('operator')
  async patch(
    @Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput,
    @Body(new ZodBody(patchCampaignSchema)) body: PatchCampaignInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return send(reply, await this.campaigns.patch(p.id, body, versionFromIfMatch(ifMatch), actor));
  }

  @Documented('Start the campaign (If-Match)', campaignSchema)
  @Post(':id/start')
  @HttpCode(200)
  @Roles('operator')
  start(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(actionBodySchema)) b: ActionBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: FastifyReply) {
    return this.act(p.id, 'start', m, a, r, b.reason);
  }

  @Documented('Pause intake; in-flight backend calls finish (If-Match)', campaignSchema)
  @Post(':id/pause')
  @KillSwitch()
  @HttpCode(200)
  @Roles('operator')
  pause(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(actionBodySchema)) b: ActionBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: FastifyReply) {
    return this.act(p.id, 'pause', m, a, r, b.reason);
  }

  @Documented('Resume a paused or halted campaign (If-Match)', campaignSchema)
  @Post(':id/resume')
  @HttpCode(200)
  @Roles('operator')
  resume(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(actionBodySchema)) b: ActionBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: FastifyReply) {
    return this.act(p.id, 'resume', m, a, r, b.reason);
  }

  @Documented('Halt intake at once: the kill switch; a reason is required (If-Match)', campaignSchema)
  @Post(':id/halt')
  @KillSwitch()
  @HttpCode(200)
  @Roles('operator')
  halt(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(haltBodySchema)) b: HaltBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: FastifyReply) {
    return this.act(p.id, 'halt', m, a, r, b.reason);
  }

  @Documented('Complete the campaign for good (admin, reason required; repeating on a completed campaign is a 200 no-op)', campaignSchema)
  @Post(':id/complete')
  @HttpCode(200)
  @Roles('admin')
  complete(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(completeBodySchema)) b: CompleteBodyInput, @Headers('if-match') m: string | undefined, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: FastifyReply) {
    return this.act(p.id, 'complete', m, a, r, b.reason);
  }

  private async act(ref: string, action: CampaignAction, ifMatch: string | undefined, actor: Actor, reply: FastifyReply, reason?: string) {
    return send(reply, await this.campaigns.act(ref, action, versionFromIfMatch(ifMatch), actor, reason));
  }
}
