import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { idParamSchema } from '../validation/common.schemas';
import { ZodBody, ZodParam, ZodQuery } from '../validation/zod.pipe';
import {
  createApiKeySchema,
  listApiKeysSchema,
  revokeApiKeySchema,
  type CreateApiKeyInput,
  type ListApiKeysInput,
  type RevokeApiKeyInput,
} from './api-keys.schemas';
import { ApiKeysService } from './api-keys.service';
import { CurrentActor, Roles } from './auth.decorators';
import type { Actor } from './auth.types';
import { Documented } from '../http/openapi/api-docs.decorators';
import { apiKeyPageSchema, apiKeySchema, createdApiKeySchema } from './api-keys.responses';

@ApiTags('keys')
@Controller('api/v1/keys')
@Roles('admin')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Documented('Create an API key; the key is in this answer only', createdApiKeySchema)
  @Post()
  create(@Body(new ZodBody(createApiKeySchema)) body: CreateApiKeyInput, @CurrentActor() actor: Actor) {
    return this.keys.create(body, actor);
  }

  @Documented('List API keys (keyset pages)', apiKeyPageSchema)
  @Get()
  list(@Query(new ZodQuery(listApiKeysSchema)) q: ListApiKeysInput) {
    return this.keys.list({ afterId: q.cursor, limit: q.limit, includeRevoked: q.includeRevoked });
  }

  @Documented('Revoke an API key; `force` to revoke the key making the request', apiKeySchema)
  @Post(':id/revoke')
  @HttpCode(200)
  revoke(
    @Param(new ZodParam(idParamSchema)) p: { id: bigint },
    @Body(new ZodBody(revokeApiKeySchema)) body: RevokeApiKeyInput,
    @CurrentActor() actor: Actor,
  ) {
    return this.keys.revoke(p.id, body, actor);
  }
}
