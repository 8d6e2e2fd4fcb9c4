import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from './auth.decorators';
import type { Actor } from './auth.types';
import { Documented } from '../http/openapi/api-docs.decorators';
import { whoAmISchema } from './api-keys.responses';

/** Who the presented key is: the dashboard offers only what this role may do. */
@ApiTags('keys')
@Controller('api/v1/keys')
export class WhoAmIController {
  @Documented('Who the presented key is', whoAmISchema)
  @Get('me')
  @Roles('evaluator')
  me(@CurrentActor() actor: Actor) {
    return { id: actor.id, name: actor.name, role: actor.role };
  }
}
