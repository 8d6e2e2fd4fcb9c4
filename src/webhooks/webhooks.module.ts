import { Module } from '@nestjs/common';
import { CampaignsModule } from '../rollout/campaigns/campaigns.module';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksProcessor, WebhookSchedules } from './webhooks.processor';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** The subscriptions and deliveries table access both processes use. */
@Module({ providers: [WebhooksRepository], exports: [WebhooksRepository] })
export class WebhooksStoreModule {}

/** API side: webhook subscriptions and their delivery status. */
@Module({
  imports: [WebhooksStoreModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}

/** Worker side: the dispatcher (outbox → deliveries) and the delivery jobs. */
@Module({
  imports: [WebhooksStoreModule, CampaignsModule],
  providers: [WebhookDeliveryService, WebhooksProcessor, WebhookSchedules],
})
export class WebhooksWorkerModule {}
