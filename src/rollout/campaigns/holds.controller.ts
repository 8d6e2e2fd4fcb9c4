import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentActor, Roles } from '../../core/auth/auth.decorators';
import type { Actor } from '../../core/auth/auth.types';
import { toJsonSafe } from '../../core/json';
import { ZodBody, ZodParam, ZodQuery } from '../../core/validation/zod.pipe';
import { campaignRefSchema, type CampaignRefInput } from './campaigns.schemas';
import { HoldsService } from './holds.service';
import {
  createHoldSchema,
  holdParamSchema,
  listHoldsSchema,
  releaseHoldSchema,
  type CreateHoldInput,
  type HoldParamInput,
  type ListHoldsInput,
  type ReleaseHoldInput,
} from './ramp.schemas';
import { Documented } from '../../core/http/openapi/api-docs.decorators';
import { holdListSchema, holdSchema, placedHoldSchema, releasedHoldSchema } from './campaigns.responses';

@ApiTags('holds')
@Controller('api/v1/campaigns')
export class HoldsController {
  constructor(private readonly holds: HoldsService) {}

  @Documented('Hold part of the population (a filter); repeating the same filter answers the existing hold', { schema: placedHoldSchema, status: 201, description: 'the new hold' }, { schema: placedHoldSchema, status: 200, description: 'an active hold with this filter already existed' })
  @Post(':id/holds')
  @Roles('operator')
  async create(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(createHoldSchema)) b: CreateHoldInput, @CurrentActor() a: Actor, @Res({ passthrough: true }) r: FastifyReply) {
    const res = await this.holds.create(p.id, b, a);
    void r.status(res.created ? 201 : 200);
    return toJsonSafe({ ...res.hold, fromStates: res.byState });
  }

  @Documented('List the holds of a campaign', holdListSchema)
  @Get(':id/holds')
  @Roles('viewer')
  async list(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Query(new ZodQuery(listHoldsSchema)) q: ListHoldsInput) {
    return { items: toJsonSafe(await this.holds.list(p.id, q.includeReleased)) };
  }

  @Documented('Read one hold', holdSchema)
  @Get(':id/holds/:holdId')
  @Roles('viewer')
  async get(@Param(new ZodParam(holdParamSchema)) p: HoldParamInput) {
    return toJsonSafe(await this.holds.get(p.id, p.holdId));
  }

  /** Releases the hold: its users are admitted again (or go back to legacy above the ramp's ceiling). */
  @Documented('Release a hold: its users are admitted again', releasedHoldSchema)
  @Delete(':id/holds/:holdId')
  @HttpCode(200)
  @Roles('operator')
  async release(@Param(new ZodParam(holdParamSchema)) p: HoldParamInput, @Body(new ZodBody(releaseHoldSchema)) b: ReleaseHoldInput, @CurrentActor() a: Actor) {
    const res = await this.holds.release(p.id, p.holdId, a, b.reason);
    return toJsonSafe({ ...res.hold, toStates: res.byState });
  }
}
