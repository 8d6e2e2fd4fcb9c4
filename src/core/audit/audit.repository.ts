import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import { PrismaService, type Db } from '../database/prisma.service';
import type { Actor } from '../auth/auth.types';
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

  /**
   * An `INSERT INTO audit_events … SELECT` for a data-modifying CTE of a caller's statement
   * (a group commit writes its rows and their audit rows in one statement). `source` yields
   * actor_id, actor_name, actor_role, action, entity_type, entity_id, before, after, reason,
   * request_id, in that order. It writes no outbox row: only for actions that are not
   * published to webhooks (PUBLISHED_EVENTS).
   */
  insertFrom(source: Prisma.Sql): Prisma.Sql {
    return Prisma.sql`INSERT INTO audit_events (actor_id, actor_name, actor_role, action, entity_type, entity_id, before, after, reason, request_id) ${source}`;
  }

  actorsOf(actors: ReadonlyArray<{ userId: bigint; actor: Actor }>): Prisma.Sql {
    const rows = actors.map(({ userId, actor }) => ({ u: String(userId), id: actor.id, name: actor.name, role: actor.role, rid: actor.requestId ?? null }));
    return Prisma.sql`SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS a(u bigint, id text, name text, role text, rid text)`;
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
