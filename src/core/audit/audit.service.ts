import { Injectable } from '@nestjs/common';
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

  async list(q: AuditQuery): Promise<{ items: AuditEventView[]; nextCursor: string | null }> {
    const items = await this.repo.find(q);
    return { items, nextCursor: items.length === q.limit ? items[items.length - 1].id : null };
  }
}
