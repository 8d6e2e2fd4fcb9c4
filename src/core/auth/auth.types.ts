export const ROLES = ['viewer', 'operator', 'admin', 'evaluator', 'alerter'] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting: an API key, or the system itself (ramp controller, reconciler...). */
export interface Actor {
  id: string;
  name: string;
  role: Role | 'system';
  requestId?: string;
}

export const SYSTEM_ACTOR = (name: string): Actor => ({ id: 'system', name, role: 'system' });

export interface ApiKeyRecord {
  id: bigint;
  name: string;
  prefix: string;
  hash: string;
  role: Role;
  createdBy: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export type ApiKeyView = Omit<ApiKeyRecord, 'hash' | 'id'> & { id: string };
