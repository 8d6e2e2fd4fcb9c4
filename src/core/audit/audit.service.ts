import { Injectable } from '@nestjs/common';
import type { Prisma } from '../../generated/prisma/client';
import type { Actor } from '../auth/auth.types';
import type { Db } from '../database/prisma.service';
import { AuditRepository } from './audit.repository';
import type { AuditEntry, AuditEventView, AuditQuery } from './audit.types';

@Injectable()
export class AuditService {
  constructor(private readonly repo: AuditRepository) {}

  /** Writes the audit row inside the caller's transaction, next to the change it describes. */
  record(entry: AuditEntry, tx: Db): Promise<void> {
    return this.repo.insert(entry, tx);
  }

  /** The audit insert of a caller's set-based statement (AuditRepository.insertFrom). */
  insertFrom(source: Prisma.Sql): Prisma.Sql {
    return this.repo.insertFrom(source);
  }

  /** A group's actors as a CTE body: one row per user id (`u`) with the actor's columns. */
  actorsOf(actors: ReadonlyArray<{ userId: bigint; actor: Actor }>): Prisma.Sql {
    return this.repo.actorsOf(actors);
  }

  async list(q: AuditQuery): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    const items = await this.repo.find(q);
    return { items, nextCursor: items.length === q.limit ? items[items.length - 1].id : null };
  }
}
