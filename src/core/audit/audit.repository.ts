import { Injectable } from '@nestjs/common';
import { Prisma } from '../../generated/prisma/client';
import { PrismaService, type Db, type DirectQuery } from '../database/prisma.service';
import { toJsonSafe } from '../json';
import type { AuditEntry, AuditEventView, AuditQuery } from './audit.types';

@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  async insert(entry: AuditEntry, db: Db): Promise<void> {
    await db.auditEvent.create({
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
    });
  }

  /** Many rows in ONE statement inside a direct transaction (group commits: one row per request). */
  async insertMany(entries: readonly AuditEntry[], q: DirectQuery): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((e) => {
      const before = toJsonSafe(e.before);
      const after = toJsonSafe(e.after);
      return {
        actor_id: e.actor.id,
        actor_name: e.actor.name,
        actor_role: e.actor.role,
        action: e.action,
        entity_type: e.entityType,
        entity_id: e.entityId,
        ...(before === null ? {} : { before }),
        ...(after === null ? {} : { after }),
        reason: e.reason ?? null,
        request_id: e.actor.requestId ?? null,
      };
    });
    await q(Prisma.sql`
      INSERT INTO audit_events (actor_id, actor_name, actor_role, action, entity_type, entity_id, before, after, reason, request_id)
      SELECT actor_id, actor_name, actor_role, action, entity_type, entity_id, before, after, reason, request_id
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS r(actor_id text, actor_name text, actor_role text, action text, entity_type text, entity_id text, before jsonb, after jsonb, reason text, request_id text)`);
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
