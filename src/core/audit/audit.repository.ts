import { Injectable } from '@nestjs/common';
import type { Prisma } from '../../generated/prisma/client';
import { PrismaService, type Db } from '../database/prisma.service';
import { toJsonSafe } from '../json';
import type { AuditEntry, AuditEventView, AuditQuery } from './audit.types';
import { PUBLISHED_EVENTS } from './published-events';

@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** A published action also goes to the outbox, in the caller's transaction (see published-events.ts). */
  async insert(entry: AuditEntry, db: Db): Promise<void> {
    const row = await db.auditEvent.create({
      data: {
        actorId: entry.actor.id,
        actorName: entry.actor.name,
        actorRole: entry.actor.role,
        action: entry.action,
        entityType: entry.entityType,
        entityId: entry.entityId,
        before: (toJsonSafe(entry.before) ?? undefined) as Prisma.InputJsonValue | undefined,
        after: (toJsonSafe(entry.after) ?? undefined) as Prisma.InputJsonValue | undefined,
        reason: entry.reason ?? null,
        requestId: entry.actor.requestId ?? null,
      },
      select: { id: true },
    });
    const eventType = PUBLISHED_EVENTS[entry.action];
    if (eventType) await db.eventOutbox.create({ data: { auditEventId: row.id, eventType } });
  }

  async find(q: AuditQuery): Promise<AuditEventView[]> {
    const rows = await this.prisma.client.auditEvent.findMany({
      where: {
        entityType: q.entityType,
        entityId: q.entityId,
        action: q.action,
        actorId: q.actorId,
        at: q.since || q.until ? { gte: q.since, lt: q.until } : undefined,
        id: q.before !== undefined ? { lt: q.before } : undefined,
      },
      orderBy: { id: 'desc' },
      take: q.limit,
    });
    return rows.map((r) => ({
      id: r.id.toString(),
      at: r.at.toISOString(),
      actor: { id: r.actorId, name: r.actorName, role: r.actorRole },
      action: r.action,
      entityType: r.entityType,
      entityId: r.entityId,
      before: r.before ?? null,
      after: r.after ?? null,
      reason: r.reason,
      requestId: r.requestId,
    }));
  }
}
