import { Module } from '@nestjs/common';
import { CampaignsModule } from '../rollout/campaigns/campaigns.module';
import { AlertsController } from './alerts.controller';
import { AlertsRepository } from './alerts.repository';
import { AlertsService } from './alerts.service';

/** Alerts in: an alert sender (Alertmanager) pauses or halts campaigns with an alerter key. */
@Module({
  imports: [CampaignsModule],
  controllers: [AlertsController],
  providers: [AlertsRepository, AlertsService],
})
export class AlertsModule {}
