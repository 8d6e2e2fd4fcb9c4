import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '../core/auth/auth.decorators';
import type { Actor } from '../core/auth/auth.types';

/** Who the presented key is: the dashboard offers only what this role may do. */
@ApiTags('keys')
@Controller('api/v1/keys')
export class WhoAmIController {
  @Get('me')
  @Roles('evaluator')
  me(@CurrentActor() actor: Actor) {
    return { id: actor.id, name: actor.name, role: actor.role };
  }
}
