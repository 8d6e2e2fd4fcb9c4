import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentActor, Roles } from '../core/auth/auth.decorators';
import type { Actor } from '../core/auth/auth.types';
import { etagFor, versionFromIfMatch } from '../core/http/etag';
import { KillSwitch } from '../core/http/input-guard';
import { ZodBody, ZodParam, ZodQuery } from '../core/validation/zod.pipe';
import {
  createFlagSchema,
  flagKeyParamSchema,
  listFlagsSchema,
  percentToPpm,
  reasonBodySchema,
  setRolloutSchema,
  updateFlagSchema,
  type CreateFlagInput,
  type ListFlagsInput,
  type ReasonBodyInput,
  type SetRolloutInput,
  type UpdateFlagInput,
} from './flags.schemas';
import { FlagsService } from './flags.service';
import type { FlagView } from './flags.types';
import { Documented } from '../core/http/openapi/api-docs.decorators';
import { flagPageSchema, flagSchema } from './flags.responses';

type KeyParam = { key: string };

/** The HTTP shape of a flag: the stored fields plus the rollout as a percentage. */
export function toFlagResponse(f: FlagView) {
  return { ...f, id: f.id.toString(), rolloutPercent: f.rolloutPpm / 10_000 };
}

function withEtag(reply: FastifyReply, f: FlagView) {
  void reply.header('ETag', etagFor(f.version));
  return toFlagResponse(f);
}

@ApiTags('flags')
@Controller('api/v1/flags')
@Roles('operator')
export class FlagsController {
  constructor(private readonly flags: FlagsService) {}

  @Documented('Create a flag', flagSchema)
  @Post()
  async create(@Body(new ZodBody(createFlagSchema)) body: CreateFlagInput, @CurrentActor() actor: Actor, @Res({ passthrough: true }) reply: FastifyReply) {
    return withEtag(reply, await this.flags.create(body, actor));
  }

  @Documented('List flags (keyset pages)', flagPageSchema)
  @Get()
  @Roles('viewer')
  async list(@Query(new ZodQuery(listFlagsSchema)) q: ListFlagsInput) {
    const page = await this.flags.list({ afterId: q.cursor, limit: q.limit, includeArchived: q.includeArchived });
    return { items: page.items.map(toFlagResponse), nextCursor: page.nextCursor };
  }

  @Documented('Read a flag; its ETag is the version', flagSchema)
  @Get(':key')
  @Roles('viewer')
  async get(@Param(new ZodParam(flagKeyParamSchema)) p: KeyParam, @Res({ passthrough: true }) reply: FastifyReply) {
    return withEtag(reply, await this.flags.getFlag(p.key));
  }

  @Documented('Change a flag (If-Match)', flagSchema)
  @Patch(':key')
  async update(
    @Param(new ZodParam(flagKeyParamSchema)) p: KeyParam,
    @Body(new ZodBody(updateFlagSchema)) body: UpdateFlagInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ctx = { actor, reason: body.reason, expectedVersion: versionFromIfMatch(ifMatch) };
    return withEtag(reply, await this.flags.update(p.key, body, ctx));
  }

  @Documented('Set the rollout percentage (If-Match)', flagSchema)
  @Post(':key/rollout')
  @HttpCode(200)
  async setRollout(
    @Param(new ZodParam(flagKeyParamSchema)) p: KeyParam,
    @Body(new ZodBody(setRolloutSchema)) body: SetRolloutInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ppm = body.rolloutPpm ?? percentToPpm(body.rolloutPercent!);
    const ctx = { actor, reason: body.reason, expectedVersion: versionFromIfMatch(ifMatch) };
    return withEtag(reply, await this.flags.setRollout(p.key, { ppm }, ctx));
  }

  @Documented('Kill the flag: off everywhere except for users already enabled (If-Match)', flagSchema)
  @Post(':key/kill')
  @KillSwitch()
  @HttpCode(200)
  async kill(
    @Param(new ZodParam(flagKeyParamSchema)) p: KeyParam,
    @Body(new ZodBody(reasonBodySchema)) body: ReasonBodyInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.flags.kill(p.key, { actor, reason: body.reason, expectedVersion: versionFromIfMatch(ifMatch) }));
  }

  @Documented('Revive a killed flag (If-Match)', flagSchema)
  @Post(':key/revive')
  @HttpCode(200)
  async revive(
    @Param(new ZodParam(flagKeyParamSchema)) p: KeyParam,
    @Body(new ZodBody(reasonBodySchema)) body: ReasonBodyInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.flags.revive(p.key, { actor, reason: body.reason, expectedVersion: versionFromIfMatch(ifMatch) }));
  }

  @Documented('Archive the flag (If-Match)', flagSchema)
  @Post(':key/archive')
  @HttpCode(200)
  @Roles('admin')
  async archive(
    @Param(new ZodParam(flagKeyParamSchema)) p: KeyParam,
    @Body(new ZodBody(reasonBodySchema)) body: ReasonBodyInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return withEtag(reply, await this.flags.archive(p.key, { actor, reason: body.reason, expectedVersion: versionFromIfMatch(ifMatch) }));
  }
}
