import { Module } from '@nestjs/common';
import { CampaignsModule } from '../rollout/campaigns/campaigns.module';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksProcessor, WebhookSchedules } from './webhooks.processor';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** API side: webhook subscriptions and their delivery status. */
@Module({
  controllers: [WebhooksController],
  providers: [WebhooksRepository, WebhooksService],
})
export class WebhooksModule {}

/** Worker side: the dispatcher (outbox → deliveries) and the delivery jobs. */
@Module({
  imports: [CampaignsModule],
  providers: [WebhooksRepository, WebhookDeliveryService, WebhooksProcessor, WebhookSchedules],
})
export class WebhooksWorkerModule {}
