import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { CurrentActor, Roles } from '../core/auth/auth.decorators';
import type { Actor } from '../core/auth/auth.types';
import { BadRequestError, DomainError } from '../core/errors/domain-error';
import { ZodBody, ZodParam } from '../core/validation/zod.pipe';
import { UsersImportService } from './users-import.service';
import { patchUserSchema, seedUsersSchema, userIdParamSchema, type PatchUserInput, type SeedUsersInput } from './users.schemas';
import { toUserView, userVersion, UsersService } from './users.service';
import { IMPORT_MEDIA_TYPES, type ImportFormat } from './users.types';
import { Documented, IfMatchOptional, RequestContent } from '../core/http/openapi/api-docs.decorators';
import { importFileSchemas, importLimitsSchema, importSummarySchema, seedSummarySchema, userSchema } from './users.responses';

class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
}

function importFormat(contentType: string | undefined): ImportFormat {
  const essence = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const format = (Object.keys(IMPORT_MEDIA_TYPES) as ImportFormat[]).find((f) => IMPORT_MEDIA_TYPES[f] === essence);
  if (!format) {
    throw new UnsupportedMediaTypeError('users.import_media_type', 'send the file as Content-Type: application/x-ndjson or text/csv');
  }
  return format;
}

function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header);
  if (!m) throw new BadRequestError('request.if_match_invalid', 'If-Match must be the ETag of your last read of this user');
  return Number(m[1]);
}

@ApiTags('users')
@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly importer: UsersImportService,
  ) {}

  @Documented('What the import accepts: a cheap check of key and role before streaming a file', importLimitsSchema)
  @Get('import')
  @Roles('operator')
  importLimits() {
    return this.importer.limits();
  }

  @Documented('Import users from a streamed NDJSON or CSV file; rows are upserted by id', importSummarySchema)
  @RequestContent({ content: importFileSchemas, description: 'one user a line: id, country, platform, appVersion, e2eeCapable and any other attributes' })
  @Post('import')
  @Roles('operator')
  @HttpCode(200)
  import(@Req() req: FastifyRequest, @CurrentActor() actor: Actor) {
    const format = importFormat(req.headers['content-type']);
    return this.importer.import(format, req.body as Readable, actor);
  }

  @Documented('Add generated users (demos and benchmarks)', seedSummarySchema)
  @Post('seed')
  @Roles('operator')
  @HttpCode(200)
  seed(@Body(new ZodBody(seedUsersSchema)) body: SeedUsersInput, @CurrentActor() actor: Actor) {
    return this.users.seed(body, actor);
  }

  @Documented('Read a user; the ETag is the user\'s version', userSchema)
  @Get(':id')
  @Roles('viewer')
  async get(@Param(new ZodParam(userIdParamSchema)) p: { id: bigint }, @Res({ passthrough: true }) reply: FastifyReply) {
    const user = await this.users.getUser(p.id);
    void reply.header('etag', `"${userVersion(user)}"`);
    return toUserView(user);
  }

  @Documented('Change a user\'s attributes; eligibility changes are reassessed in every campaign (If-Match optional)', userSchema)
  @IfMatchOptional()
  @Patch(':id')
  @Roles('operator')
  async patch(
    @Param(new ZodParam(userIdParamSchema)) p: { id: bigint },
    @Body(new ZodBody(patchUserSchema)) body: PatchUserInput,
    @Headers('if-match') ifMatch: string | undefined,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const user = await this.users.patchUser(p.id, body, parseIfMatch(ifMatch), actor);
    void reply.header('etag', `"${userVersion(user)}"`);
    return toUserView(user);
  }
}
