import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '../core/auth/auth.decorators';
import type { Actor } from '../core/auth/auth.types';
import { Documented } from '../core/http/openapi/api-docs.decorators';
import { whoAmISchema } from '../core/auth/api-keys.responses';

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
