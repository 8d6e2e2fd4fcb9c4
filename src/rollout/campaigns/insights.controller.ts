import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Roles } from '../../core/auth/auth.decorators';
import { toJsonSafe } from '../../core/json';
import { ZodParam, ZodQuery } from '../../core/validation/zod.pipe';
import { campaignRefSchema, type CampaignRefInput } from './campaigns.schemas';
import { InsightsService } from './insights.service';
import { campaignUserParamSchema, forecastQuerySchema, type CampaignUserParamInput, type ForecastQueryInput } from './ramp.schemas';
import { Documented } from '../../core/http/openapi/api-docs.decorators';
import { forecastSchema, userExplanationSchema, campaignExplanationSchema } from './campaigns.responses';

@ApiTags('ramp')
@Controller('api/v1/campaigns')
export class InsightsController {
  constructor(private readonly insights: InsightsService) {}

  @Documented('How many users a rollout (default: the next step) newly admits, and how long it takes', forecastSchema)
  @Get(':id/forecast')
  @Roles('viewer')
  async forecast(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput, @Query(new ZodQuery(forecastQuerySchema)) q: ForecastQueryInput) {
    return toJsonSafe(await this.insights.forecast(p.id, q));
  }

  @Documented('Why the campaign is (not) moving: the ramp\'s reason to wait, capability floors and their forecasts, completion', campaignExplanationSchema)
  @Get(':id/explain')
  @Roles('viewer')
  async explainCampaign(@Param(new ZodParam(campaignRefSchema)) p: CampaignRefInput) {
    return toJsonSafe(await this.insights.explainCampaign(p.id));
  }

  @Documented('Why this user is (not) encrypted', userExplanationSchema)
  @Get(':id/users/:userId')
  @Roles('viewer')
  async explain(@Param(new ZodParam(campaignUserParamSchema)) p: CampaignUserParamInput) {
    return toJsonSafe(await this.insights.explainUser(p.id, p.userId));
  }
}
