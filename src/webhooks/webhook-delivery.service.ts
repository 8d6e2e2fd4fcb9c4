import { Inject, Injectable, Logger } from '@nestjs/common';
import { CampaignsService } from '../rollout/campaigns/campaigns.service';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { Clock } from '../core/clock/clock';
import { NotFoundError } from '../core/errors/domain-error';
import { JOBS } from '../core/queue/job-registry';
import { JobsService, type JobSpec } from '../core/queue/jobs.service';
import { QUEUES, type JobStatus } from '../core/queue/queue.constants';
import { webhookBody, type EventSubject } from './webhook-body';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature';
import { WebhooksRepository } from './webhooks.repository';
import type { PublishedEvent } from './webhooks.types';

const DRAIN_CHUNK = 500;
const DRAIN_ROUNDS = 20;
/** A pending delivery untouched this long has lost its job: it is enqueued again (same job id). */
const STALE_PENDING_MS = 5 * 60_000;

class DeliveryFailed extends Error {}

/**
 * Notifications out, on the worker: the dispatcher turns committed outbox rows into one
 * delivery per subscription and enqueues them; a delivery job signs and POSTs the event and
 * records the attempt. BullMQ retries with exponential backoff; the event id never changes, so
 * a receiver deduplicates a delivery that arrived but whose answer was lost (at-least-once).
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly log = new Logger(WebhookDeliveryService.name);

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly campaigns: CampaignsService,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async dispatch(): Promise<JobStatus> {
    const ids: bigint[] = [];
    for (let round = 0; round < DRAIN_ROUNDS; round++) {
      const drained = await this.repo.drainOutbox(DRAIN_CHUNK);
      ids.push(...drained);
      if (drained.length < DRAIN_CHUNK) break;
    }
    ids.push(...(await this.repo.stalePending(STALE_PENDING_MS, DRAIN_CHUNK)));
    if (ids.length === 0) return 'skipped';
    await this.jobs.addBulk(QUEUES.webhooks, [...new Set(ids)].map((id) => this.deliverJob(id)));
    return 'done';
  }

  deliverJob(deliveryId: bigint): JobSpec {
    const w = this.config.webhooks;
    return {
      name: JOBS.webhookDeliver,
      data: { deliveryId: String(deliveryId) },
      jobId: `${JOBS.webhookDeliver}-${deliveryId}`,
      opts: { attempts: w.maxAttempts, backoff: { type: 'exponential', delay: w.backoffMs }, removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600, count: 5000 } },
    };
  }

  /** One attempt. Throws on failure so that BullMQ retries, unless `final` (the delivery is then marked failed). */
  async deliver(deliveryId: bigint, final: boolean): Promise<JobStatus> {
    const found = await this.repo.findDelivery(deliveryId);
    if (!found || found.delivery.status !== 'pending') return 'skipped';
    const { subscription: s, event } = found;
    if (s.deletedAt || !s.enabled) {
      await this.repo.cancel(deliveryId);
      return 'skipped';
    }
    const body = webhookBody(event, await this.subject(event), s.format);
    const outcome = await this.post(s.url, body, s.secret, event);
    const status = outcome.ok ? 'delivered' : final ? 'failed' : 'pending';
    await this.repo.recordAttempt(deliveryId, { status, statusCode: outcome.statusCode, error: outcome.error });
    if (outcome.ok) return 'done';
    const message = `webhook ${s.id} delivery ${deliveryId} (${event.type}) failed: ${outcome.error}`;
    if (final) this.log.warn(`${message}; giving up`);
    throw new DeliveryFailed(message);
  }

  private async post(url: string, body: string, secret: string, e: PublishedEvent): Promise<{ ok: boolean; statusCode: number | null; error: string | null }> {
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'cutover-webhooks/1',
      [SIGNATURE_HEADER]: signWebhook(secret, body, Math.floor(this.clock.nowMs() / 1000)),
      [EVENT_ID_HEADER]: String(e.id),
      [EVENT_TYPE_HEADER]: e.type,
    };
    try {
      const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.config.webhooks.timeoutMs) });
      await res.body?.cancel().catch(() => undefined);
      return res.ok ? { ok: true, statusCode: res.status, error: null } : { ok: false, statusCode: res.status, error: `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, statusCode: null, error: (err as Error)?.message ?? String(err) };
    }
  }

  private async subject(e: PublishedEvent): Promise<EventSubject> {
    if (e.entityType !== 'campaign') return { type: e.entityType, id: e.entityId };
    const c = await this.campaigns.get(e.entityId).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    return { type: 'campaign', id: e.entityId, key: c?.key };
  }
}
