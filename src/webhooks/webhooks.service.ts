import { Injectable } from '@nestjs/common';
import { AuditService } from '../core/audit/audit.service';
import type { Actor } from '../core/auth/auth.types';
import { NotFoundError, VersionConflictError } from '../core/errors/domain-error';
import { newWebhookSecret } from './webhook-signature';
import type { CreateWebhookInput, PatchWebhookInput } from './webhooks.schemas';
import { WebhooksRepository } from './webhooks.repository';
import type { WebhookDelivery, WebhookSubscription, WebhookView } from './webhooks.types';

export function webhookView(s: WebhookSubscription): WebhookView {
  const { secret: _secret, ...view } = s;
  return view;
}

/** Webhook subscriptions (admin): every change audited, the secret shown only when it is created. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repo: WebhooksRepository,
    private readonly audit: AuditService,
  ) {}

  async create(input: CreateWebhookInput, actor: Actor): Promise<{ webhook: WebhookSubscription; secret: string }> {
    const secret = input.secret ?? newWebhookSecret();
    const webhook = await this.repo.prisma.transaction(async (tx) => {
      const w = await this.repo.insert({ name: input.name, url: input.url, secret, events: input.events, format: input.format, enabled: input.enabled }, tx);
      await this.audit.record({ actor, action: 'webhook.created', entityType: 'webhook', entityId: String(w.id), after: webhookView(w) }, tx);
      return w;
    });
    return { webhook, secret };
  }

  async get(id: bigint): Promise<WebhookSubscription> {
    const w = await this.repo.find(id);
    if (!w) throw new NotFoundError('webhook', id);
    return w;
  }

  list(): Promise<WebhookSubscription[]> {
    return this.repo.list();
  }

  async patch(id: bigint, input: PatchWebhookInput, expectedVersion: number, actor: Actor): Promise<WebhookSubscription> {
    const before = await this.get(id);
    if (before.version !== expectedVersion) throw new VersionConflictError('webhook', expectedVersion, before.version);
    const { reason, ...fields } = input;
    return this.repo.prisma.transaction(async (tx) => {
      const after = await this.repo.update(id, expectedVersion, fields, tx);
      if (!after) throw new VersionConflictError('webhook', expectedVersion);
      await this.audit.record(
        { actor, action: 'webhook.updated', entityType: 'webhook', entityId: String(id), before: webhookView(before), after: { ...webhookView(after), secretChanged: fields.secret !== undefined }, reason },
        tx,
      );
      return after;
    });
  }

  /** Deletes the subscription; its pending deliveries are cancelled when their job runs. */
  async remove(id: bigint, expectedVersion: number, actor: Actor, reason?: string): Promise<void> {
    const before = await this.get(id);
    if (before.version !== expectedVersion) throw new VersionConflictError('webhook', expectedVersion, before.version);
    await this.repo.prisma.transaction(async (tx) => {
      if (!(await this.repo.update(id, expectedVersion, { deletedAt: new Date() }, tx))) throw new VersionConflictError('webhook', expectedVersion);
      await this.audit.record({ actor, action: 'webhook.deleted', entityType: 'webhook', entityId: String(id), before: webhookView(before), reason }, tx);
    });
  }

  async deliveries(id: bigint, limit: number): Promise<WebhookDelivery[]> {
    await this.get(id);
    return this.repo.deliveries(id, limit);
  }
}
