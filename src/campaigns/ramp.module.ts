import { Module } from '@nestjs/common';
import { FlagsModule } from '../flags/flags.module';
import { CampaignsModule } from './campaigns.module';
import { DbHealthRepository } from './db-health.repository';
import { GuardrailSignalsService } from './guardrail-signals.service';
import { GuardrailsService } from './guardrails.service';
import { PrometheusClient } from './prometheus.client';
import { HoldsController } from './holds.controller';
import { HoldsRepository } from './holds.repository';
import { HoldsService } from './holds.service';
import { InsightsController } from './insights.controller';
import { InsightsRepository } from './insights.repository';
import { InsightsService } from './insights.service';
import { RampControllerService } from './ramp-controller.service';
import { RampController } from './ramp.controller';
import { RampProcessor, RampSchedules } from './ramp.processor';
import { RampRepository } from './ramp.repository';
import { RampService } from './ramp.service';

/** API side of the ramp: plan, guardrails, promote / approve / set-step, holds, forecast, explain. */
@Module({
  imports: [CampaignsModule, FlagsModule],
  controllers: [RampController, HoldsController, InsightsController],
  providers: [RampRepository, RampService, HoldsRepository, HoldsService, InsightsRepository, InsightsService, PrometheusClient],
  exports: [RampService],
})
export class RampModule {}

/** Worker side: the ramp controller's tick (steps, guardrails, pace) on its own queue. */
@Module({
  imports: [CampaignsModule, FlagsModule],
  providers: [RampRepository, RampService, HoldsRepository, HoldsService, PrometheusClient, DbHealthRepository, GuardrailSignalsService, GuardrailsService, RampControllerService, RampProcessor, RampSchedules],
  exports: [RampControllerService, RampService],
})
export class RampWorkerModule {}
