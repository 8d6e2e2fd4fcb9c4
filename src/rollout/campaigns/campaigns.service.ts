import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { AuditService } from '../../core/audit/audit.service';
import type { Actor } from '../../core/auth/auth.types';
import { PrismaService } from '../../core/database/prisma.service';
import { ConflictError, NotFoundError, VersionConflictError } from '../../core/errors/domain-error';
import { JobsService } from '../../core/queue/jobs.service';
import { QUEUES } from '../../core/queue/queue.constants';
import { ACTION_TARGET, planAction } from './campaign-lifecycle';
import { batchJobId, batchJobSpec, materializeJobSpec, planJobSpec } from './campaign-jobs';
import { CampaignBatchesRepository, CampaignsRepository, type BatchRef, type StateCounts, type TransitionEffects } from './campaigns.repository';
import type { CreateCampaignInput, PacingInput, PatchCampaignInput } from './campaigns.schemas';
import type { AdmissionFlag, Campaign, CampaignAction, CampaignListQuery, Pacing } from './campaigns.types';

const PAST: Record<CampaignAction, string> = { start: 'started', pause: 'paused', resume: 'resumed', halt: 'halted', complete: 'completed' };

export function lifecycleView(c: Campaign) {
  return { status: c.status, version: c.version, admittedPpm: c.admittedPpm, plannedPpm: c.plannedPpm };
}

@Injectable()
export class CampaignsService {
  constructor(
    private readonly repo: CampaignsRepository,
    private readonly batches: CampaignBatchesRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(input: CreateCampaignInput, actor: Actor): Promise<Campaign> {
    const flag = await this.repo.findFlag(input.flagId !== undefined ? { id: input.flagId } : { key: input.flag });
    if (!flag) throw new NotFoundError('flag', String(input.flagId ?? input.flag));
    if (await this.repo.findByRef(input.key)) throw new ConflictError('campaign.key_taken', `a campaign with key ${input.key} exists`);
    const created = await this.prisma.transaction(async (tx) => {
      const c = await this.repo.insert(
        { key: input.key, name: input.name, description: input.description, flagId: flag.id, populationFilter: input.populationFilter, pacing: this.pacing(input.pacing), autoComplete: input.autoComplete },
        tx,
      );
      await this.audit.record({ actor, action: 'campaign.created', entityType: 'campaign', entityId: String(c.id), after: c }, tx);
      return c;
    }).catch((err: unknown) => {
      if ((err as { code?: string })?.code === 'P2002') throw new ConflictError('campaign.key_taken', `a campaign with key ${input.key} exists`);
      throw err;
    });
    return created;
  }

  async get(ref: string): Promise<Campaign> {
    const c = await this.repo.findByRef(ref);
    if (!c) throw new NotFoundError('campaign', ref);
    return c;
  }

  async getFlag(c: Campaign): Promise<AdmissionFlag> {
    const f = await this.repo.findFlag({ id: c.flagId });
    if (!f) throw new NotFoundError('flag', String(c.flagId));
    return f;
  }

  list(q: CampaignListQuery): Promise<Campaign[]> {
    return this.repo.list(q);
  }

  async patch(ref: string, input: PatchCampaignInput, expectedVersion: number, actor: Actor): Promise<Campaign> {
    const before = await this.get(ref);
    if (input.populationFilter !== undefined && before.status !== 'draft') {
      throw new ConflictError('campaign.population_frozen', 'the population filter can only change while the campaign is a draft');
    }
    if (before.version !== expectedVersion) throw new VersionConflictError('campaign', expectedVersion, before.version);
    return this.prisma.transaction(async (tx) => {
      const pacing = input.pacing ? { ...before.pacing, ...definedOnly(input.pacing) } : undefined;
      const after = await this.repo.update(before.id, expectedVersion, { ...input, pacing }, tx);
      if (!after) throw new VersionConflictError('campaign', expectedVersion);
      await this.audit.record({ actor, action: 'campaign.updated', entityType: 'campaign', entityId: String(before.id), before, after, reason: input.reason }, tx);
      return after;
    });
  }

  /**
   * Applies a lifecycle action. Repeating an action that already took effect answers with the
   * current state and writes nothing (no second audit row), whatever If-Match says.
   */
  async act(ref: string, action: CampaignAction, expectedVersion: number, actor: Actor, reason?: string): Promise<Campaign> {
    const before = await this.get(ref);
    if (planAction(action, before.status) === 'noop') return before;
    if (before.version !== expectedVersion) throw new VersionConflictError('campaign', expectedVersion, before.version);
    if (action === 'start') await this.getFlag(before);
    const fx = effectsOf(action, before, reason);
    const { after, dropped, requeued } = await this.prisma.transaction(async (tx) => {
      const next = await this.repo.transition(before.id, expectedVersion, before.status, ACTION_TARGET[action], fx, tx);
      if (!next) throw new VersionConflictError('campaign', expectedVersion);
      const dropped = action === 'halt' || action === 'complete' ? await this.batches.dropQueued(before.id, tx) : [];
      const inFlight = action === 'halt' ? await this.batches.running(before.id, tx) : [];
      const requeued = fx.resumeFromHalt ? await this.batches.requeueDropped(before.id, tx) : [];
      const counts = action === 'complete' ? await this.batches.stateCounts(before.id, tx) : null;
      await this.audit.record(
        {
          actor,
          action: `campaign.${PAST[action]}`,
          entityType: 'campaign',
          entityId: String(before.id),
          before: lifecycleView(before),
          after: {
            ...lifecycleView(next),
            droppedBatches: dropped.length,
            inFlightBatches: inFlight.map(String),
            requeuedBatches: requeued.length,
            ...(counts && { enabled: counts.enabled, leftOver: leftOverOf(counts) }),
          },
          reason: reason ?? null,
        },
        tx,
      );
      return { after: next, dropped, requeued };
    });
    await this.afterTransition(after, action, dropped, requeued);
    return after;
  }

  /** Side effects on Redis once the transition committed (PostgreSQL is the truth). */
  private async afterTransition(c: Campaign, action: CampaignAction, dropped: BatchRef[], requeued: BatchRef[]): Promise<void> {
    if (dropped.length > 0) await this.jobs.removeWaiting(QUEUES.migration, dropped.map((b) => batchJobId(c.id, b.id, b.queuedAtMs)));
    if (requeued.length > 0) await this.jobs.addBulk(QUEUES.migration, requeued.map((b) => batchJobSpec(c.id, b, { maxAttempts: c.pacing.maxAttempts, backoffMs: this.config.migration.retryBackoffMs })));
    if (action === 'start' && c.materializedAt === null) await this.jobs.add(QUEUES.control, materializeJobSpec(c.id, c.materializeCursor ?? 0n));
    if (action === 'start' || action === 'resume') await this.jobs.add(QUEUES.control, planJobSpec(c.id, action));
  }

  private pacing(input: PacingInput): Pacing {
    const m = this.config.migration;
    return {
      batchSize: input.batchSize ?? m.batchSize,
      maxUsersPerSecond: input.maxUsersPerSecond ?? 0,
      concurrency: input.concurrency ?? this.config.worker.concurrency,
      maxAttempts: input.maxAttempts ?? m.maxAttempts,
      backlogBatches: input.backlogBatches ?? m.backlogBatches,
    };
  }
}

function effectsOf(action: CampaignAction, before: Campaign, reason?: string): TransitionEffects {
  switch (action) {
    case 'start':
      return { start: true };
    case 'halt':
      return { halt: { reason: reason ?? 'halted' } };
    case 'resume':
      return { resumeFromHalt: before.status === 'halted' };
    case 'complete':
      return { complete: true };
    case 'pause':
      return {};
  }
}

/** Users a completed campaign leaves where they are: they stay so (completion is terminal). */
function leftOverOf(k: StateCounts) {
  return { legacy: k.legacy, ineligible: k.ineligible, eligible: k.eligible, enrolling: k.enrolling, failed: k.failed, held: k.held };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
