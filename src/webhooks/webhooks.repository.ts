import { Injectable } from '@nestjs/common';
import type { WebhookDelivery as DeliveryRow, WebhookSubscription as SubscriptionRow } from '../generated/prisma/client';
import { PrismaService, type Db } from '../core/database/prisma.service';
import type { DeliveryStatus, PublishedEvent, WebhookDelivery, WebhookFormat, WebhookSubscription } from './webhooks.types';

const toSubscription = (r: SubscriptionRow): WebhookSubscription => ({ ...r, format: r.format as WebhookFormat });
const toDelivery = (r: DeliveryRow): WebhookDelivery => ({ ...r, status: r.status as DeliveryStatus });

export interface SubscriptionFields {
  name: string;
  url: string;
  secret: string;
  events: string[];
  format: WebhookFormat;
  enabled: boolean;
}

@Injectable()
export class WebhooksRepository {
  constructor(readonly prisma: PrismaService) {}

  async insert(f: SubscriptionFields, db: Db): Promise<WebhookSubscription> {
    return toSubscription(await db.webhookSubscription.create({ data: f }));
  }

  async find(id: bigint): Promise<WebhookSubscription | null> {
    const r = await this.prisma.client.webhookSubscription.findFirst({ where: { id, deletedAt: null } });
    return r ? toSubscription(r) : null;
  }

  async list(): Promise<WebhookSubscription[]> {
    return (await this.prisma.client.webhookSubscription.findMany({ where: { deletedAt: null }, orderBy: { id: 'asc' }, take: 500 })).map(toSubscription);
  }

  /** Compare-and-set on the version; null when someone changed or deleted it first. */
  async update(id: bigint, expectedVersion: number, f: Partial<SubscriptionFields> & { deletedAt?: Date }, db: Db): Promise<WebhookSubscription | null> {
    const n = await db.webhookSubscription.updateMany({ where: { id, version: expectedVersion, deletedAt: null }, data: { ...f, version: { increment: 1 } } });
    if (n.count === 0) return null;
    const r = await db.webhookSubscription.findUnique({ where: { id } });
    return r ? toSubscription(r) : null;
  }

  async deliveries(subscriptionId: bigint, limit: number): Promise<WebhookDelivery[]> {
    return (await this.prisma.client.webhookDelivery.findMany({ where: { subscriptionId }, orderBy: { id: 'desc' }, take: limit })).map(toDelivery);
  }

  /**
   * Takes committed outbox rows (SKIP LOCKED: several workers drain side by side) and fans
   * each out to the subscriptions listening for its type, in one statement; returns the new
   * deliveries. A row whose transaction has not committed yet is invisible until it does.
   */
  async drainOutbox(limit: number): Promise<bigint[]> {
    const rows = await this.prisma.client.$queryRaw<Array<{ id: bigint }>>`
      WITH drained AS (
        DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        RETURNING audit_event_id, event_type)
      INSERT INTO webhook_deliveries (subscription_id, event_id, event_type)
      SELECT s.id, d.audit_event_id, d.event_type FROM drained d
      JOIN webhook_subscriptions s ON s.deleted_at IS NULL AND s.enabled AND d.event_type = ANY (s.events)
      ON CONFLICT (subscription_id, event_id) DO NOTHING
      RETURNING id`;
    return rows.map((r) => r.id);
  }

  /** Pending deliveries nobody attempted for a while (their job was lost with Redis, or never added). */
  async stalePending(olderThanMs: number, limit: number): Promise<bigint[]> {
    const rows = await this.prisma.client.$queryRaw<Array<{ id: bigint }>>`
      SELECT id FROM webhook_deliveries
      WHERE status = 'pending' AND coalesce(last_attempt_at, created_at) < now() - ${olderThanMs} * interval '1 millisecond'
      ORDER BY id LIMIT ${limit}`;
    return rows.map((r) => r.id);
  }

  async findDelivery(id: bigint): Promise<{ delivery: WebhookDelivery; subscription: WebhookSubscription; event: PublishedEvent } | null> {
    const d = await this.prisma.client.webhookDelivery.findUnique({ where: { id } });
    if (!d) return null;
    const [s, e] = await Promise.all([
      this.prisma.client.webhookSubscription.findUnique({ where: { id: d.subscriptionId } }),
      this.prisma.client.auditEvent.findUnique({ where: { id: d.eventId } }),
    ]);
    if (!s || !e) return null;
    return {
      delivery: toDelivery(d),
      subscription: toSubscription(s),
      event: {
        id: e.id, type: d.eventType, at: e.at, action: e.action, entityType: e.entityType, entityId: e.entityId,
        actor: { id: e.actorId, name: e.actorName, role: e.actorRole }, reason: e.reason, before: e.before, after: e.after,
      },
    };
  }

  /** Records one attempt; only a pending delivery changes (a late duplicate job writes nothing). */
  async recordAttempt(id: bigint, a: { status: DeliveryStatus; statusCode: number | null; error: string | null }): Promise<boolean> {
    const n = await this.prisma.client.$executeRaw`
      UPDATE webhook_deliveries SET status = ${a.status}, attempts = attempts + 1, last_status_code = ${a.statusCode},
        last_error = ${a.error}, last_attempt_at = now(), delivered_at = CASE WHEN ${a.status} = 'delivered' THEN now() END
      WHERE id = ${id} AND status = 'pending'`;
    return n > 0;
  }

  async cancel(id: bigint): Promise<void> {
    await this.prisma.client.webhookDelivery.updateMany({ where: { id, status: 'pending' }, data: { status: 'cancelled' } });
  }
}
