import { Injectable } from '@nestjs/common';
import type { ApiKey } from '../../generated/prisma/client';
import { PrismaService, type Db } from '../database/prisma.service';
import type { ApiKeyRecord, Role } from './auth.types';

function toRecord(row: ApiKey): ApiKeyRecord {
  return { ...row, role: row.role };
}

@Injectable()
export class ApiKeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  async findByPrefix(prefix: string): Promise<ApiKeyRecord | null> {
    const row = await this.prisma.client.apiKey.findUnique({ where: { prefix } });
    return row ? toRecord(row) : null;
  }

  async findById(id: bigint, db: Db = this.prisma.client): Promise<ApiKeyRecord | null> {
    const row = await db.apiKey.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async insert(
    input: { name: string; prefix: string; hash: string; role: Role; createdBy: string | null },
    db: Db = this.prisma.client,
  ): Promise<ApiKeyRecord> {
    return toRecord(await db.apiKey.create({ data: input }));
  }

  async insertIfAbsent(
    input: { name: string; prefix: string; hash: string; role: Role; createdBy: string | null },
    db: Db = this.prisma.client,
  ): Promise<boolean> {
    const n = await db.$executeRaw`
      INSERT INTO api_keys (name, prefix, hash, role, created_by)
      VALUES (${input.name}, ${input.prefix}, ${input.hash}, ${input.role}::api_key_role, ${input.createdBy})
      ON CONFLICT (prefix) DO NOTHING`;
    return n > 0;
  }

  async countActiveAdmins(db: Db = this.prisma.client): Promise<number> {
    return db.apiKey.count({ where: { role: 'admin', revokedAt: null } });
  }

  async list(opts: { afterId?: bigint; limit: number; includeRevoked: boolean }): Promise<ApiKeyRecord[]> {
    const rows = await this.prisma.client.apiKey.findMany({
      where: {
        ...(opts.afterId !== undefined ? { id: { gt: opts.afterId } } : {}),
        ...(opts.includeRevoked ? {} : { revokedAt: null }),
      },
      orderBy: { id: 'asc' },
      take: opts.limit,
    });
    return rows.map(toRecord);
  }

  /** Conditional: only an active key is revoked; returns whether a row changed. */
  async markRevoked(id: bigint, at: Date, db: Db): Promise<number> {
    const r = await db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
    return r.count;
  }

  /** Serializes changes to the set of admin keys (bootstrap, revocation) across processes. */
  async lockAdminKeys(db: Db): Promise<void> {
    await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('cutover.bootstrap_admin_key'))`;
  }

  /** Conditional: writes only when the stored time is over a minute older, so replicas do not each write. */
  async touchLastUsed(id: bigint, at: Date): Promise<number> {
    return this.prisma.client.$executeRaw`
      UPDATE api_keys SET last_used_at = ${at}
      WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at <= ${at}::timestamptz - interval '1 minute')`;
  }
}
