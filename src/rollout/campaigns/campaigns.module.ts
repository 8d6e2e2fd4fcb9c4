import { Module } from '@nestjs/common';
import { CampaignsController } from './campaigns.controller';
import { CampaignBatchesRepository, CampaignsRepository } from './campaigns.repository';
import { CampaignsService } from './campaigns.service';

/** Campaign CRUD and lifecycle (API side). The migration engine builds on CampaignsService. */
@Module({
  controllers: [CampaignsController],
  providers: [CampaignsRepository, CampaignBatchesRepository, CampaignsService],
  exports: [CampaignsService],
})
export class CampaignsModule {}
