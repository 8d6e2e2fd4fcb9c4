import type { Actor } from '../auth/auth.types';

export interface AuditEntry {
  actor: Actor;
  /** `<entity>.<past tense>`, e.g. `campaign.halted` */
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

export interface AuditEventView {
  id: string;
  at: string;
  actor: { id: string; name: string; role: string };
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  reason: string | null;
  requestId: string | null;
}

export interface AuditQuery {
  entityType?: string;
  entityId?: string;
  action?: string;
  actorId?: string;
  since?: Date;
  until?: Date;
  /** keyset cursor: events with id < before */
  before?: bigint;
  limit: number;
}
