import { Module } from '@nestjs/common';
import { FlagsModule } from '../../flags/flags.module';
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

/** The ramp's services both processes use: plan, promote / approve / set-step, holds. */
@Module({
  imports: [CampaignsModule, FlagsModule],
  providers: [RampRepository, RampService, HoldsRepository, HoldsService],
  exports: [RampRepository, RampService, HoldsRepository, HoldsService],
})
export class RampServicesModule {}

/** API side of the ramp: plan, guardrails, promote / approve / set-step, holds, forecast, explain. */
@Module({
  imports: [RampServicesModule, CampaignsModule, FlagsModule],
  controllers: [RampController, HoldsController, InsightsController],
  providers: [InsightsRepository, InsightsService, PrometheusClient],
  exports: [RampServicesModule],
})
export class RampModule {}

/** Worker side: the ramp controller's tick (steps, guardrails, pace) on its own queue. */
@Module({
  imports: [RampServicesModule, CampaignsModule, FlagsModule],
  providers: [PrometheusClient, DbHealthRepository, GuardrailSignalsService, GuardrailsService, RampControllerService, RampProcessor, RampSchedules],
  exports: [RampControllerService, RampServicesModule],
})
export class RampWorkerModule {}
