import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { campaignRefSchema, type CampaignRefInput } from '../campaigns/campaigns.schemas';
import { CurrentActor, Roles } from '../../core/auth/auth.decorators';
import type { Actor } from '../../core/auth/auth.types';
import { toJsonSafe } from '../../core/json';
import { ZodBody, ZodParam } from '../../core/validation/zod.pipe';
import { EnrolmentService } from './enrolment.service';
import { RetryFailedService } from './retry-failed.service';
import {
  optInSchema,
  recoverySchema,
  retryFailedSchema,
  userIdParamSchema,
  type OptInInput,
  type RecoveryInput,
  type RetryFailedInput,
  type UserIdParamInput,
} from './migration.schemas';
import { Documented } from '../../core/http/openapi/api-docs.decorators';
import { recoveryResultSchema, retryAcceptedSchema, userMigrationSchema } from './migration.responses';

@ApiTags('campaigns')
@Controller('api/v1/campaigns')
export class EnrolmentController {
  constructor(
    private readonly enrolment: EnrolmentService,
    private readonly retry: RetryFailedService,
  ) {}

  @Documented('A user asks to move now: admitted whatever the ramp says, if their devices can', userMigrationSchema)
  @Post(':id/opt-in')
  @HttpCode(200)
  @Roles('operator')
  async optIn(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(optInSchema)) body: OptInInput, @CurrentActor() actor: Actor) {
    return toJsonSafe(await this.enrolment.optIn(p.id, body.userId, actor));
  }

  @Documented('Send the failed users back to eligible, to be tried again', retryAcceptedSchema)
  @Post(':id/retry-failed')
  @HttpCode(202)
  @Roles('operator')
  async retryFailed(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Body(new ZodBody(retryFailedSchema)) body: RetryFailedInput, @CurrentActor() actor: Actor) {
    const c = await this.retry.request(p.id, actor, body.reason);
    return { campaignId: String(c.id), accepted: true };
  }
}

@ApiTags('users')
@Controller('api/v1/users')
export class RecoveryController {
  constructor(private readonly enrolment: EnrolmentService) {}

  @Documented('Record that an enabled user set up a recovery method', recoveryResultSchema)
  @Post(':id/recovery')
  @HttpCode(200)
  @Roles('operator')
  recovery(@Param(new ZodParam(userIdParamSchema)) p: UserIdParamInput, @Body(new ZodBody(recoverySchema)) body: RecoveryInput, @CurrentActor() actor: Actor) {
    return this.enrolment.setRecovery(p.id, body.method, body.campaign, actor);
  }
}
