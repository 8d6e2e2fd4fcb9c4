import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { materializeJobSpec, planJobSpec } from '../campaigns/campaign-jobs';
import { CampaignsService } from '../campaigns/campaigns.service';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../../core/queue/queue.constants';
import { SaltedBucketer } from '../../flags/bucketing';
import { MaterializeRepository } from './materialize.repository';

const CHUNKS_PER_JOB = 25;

/**
 * Materialises a campaign's user_migrations rows (state legacy, bucket from the admission
 * flag's salt) in keyset chunks. Each chunk is one transaction that also advances the
 * cursor, so a killed job resumes where the last commit left off; a job does a bounded
 * number of chunks, then hands over to a fresh job.
 */
@Injectable()
export class MaterializerService {
  constructor(
    private readonly repo: MaterializeRepository,
    private readonly campaigns: CampaignsService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async materialize(campaignId: bigint): Promise<JobStatus> {
    const c = await this.campaigns.get(String(campaignId));
    if (c.materializedAt !== null || c.materializeCursor === null || c.status === 'completed') return 'skipped';
    const flag = await this.campaigns.getFlag(c);
    const bucketer = new SaltedBucketer(flag.salt);
    let cursor = c.materializeCursor;
    for (let i = 0; i < CHUNKS_PER_JOB; i++) {
      const chunk = await this.repo.readUsers(c.populationFilter, cursor, this.config.migration.materializeChunk);
      if (chunk.ids.length === 0) {
        if (await this.repo.markMaterialized(c.id, cursor)) {
          await this.repo.refreshStatistics();
          await this.jobs.add(QUEUES.control, planJobSpec(c.id, 'materialized'));
        }
        return 'done';
      }
      const buckets = chunk.ids.map((id) => bucketer.bucket(String(id)));
      const ok = await this.repo.prisma.transaction((tx) => this.repo.insertChunk(c.id, cursor, { ...chunk, buckets }, tx));
      if (!ok) return 'skipped';
      cursor = chunk.ids[chunk.ids.length - 1];
    }
    await this.jobs.add(QUEUES.control, materializeJobSpec(c.id, cursor));
    return 'partial';
  }
}
