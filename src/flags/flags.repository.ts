import { Injectable } from '@nestjs/common';
import type { Flag, Prisma } from '../generated/prisma/client';
import { PrismaService, type Db } from '../core/database/prisma.service';
import type { FlagChanges, FlagKind, FlagView, NewFlag, Rule, VariantValue } from './flags.types';

function toView(row: Flag): FlagView {
  return {
    id: row.id,
    key: row.key,
    description: row.description,
    kind: row.kind as FlagKind,
    variants: row.variants as Record<string, VariantValue>,
    offVariant: row.offVariant,
    rolloutVariant: row.rolloutVariant,
    rules: row.rules as unknown as Rule[],
    rolloutPpm: row.rolloutPpm,
    salt: row.salt,
    hashVersion: row.hashVersion,
    killed: row.killed,
    killReason: row.killReason,
    killedAt: row.killedAt,
    archivedAt: row.archivedAt,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toData(c: FlagChanges): Prisma.FlagUpdateManyMutationInput {
  return {
    ...c,
    variants: c.variants as Prisma.InputJsonValue | undefined,
    rules: c.rules as unknown as Prisma.InputJsonValue | undefined,
  };
}

/** The campaign statuses during which a flag's salt and hash version may not change. */
const FREEZING = ['running', 'paused'] as const;

@Injectable()
export class FlagsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async findByKey(key: string, db: Db = this.prisma.client): Promise<FlagView | null> {
    const row = await db.flag.findUnique({ where: { key } });
    return row ? toView(row) : null;
  }

  async findById(id: bigint, db: Db = this.prisma.client): Promise<FlagView | null> {
    const row = await db.flag.findUnique({ where: { id } });
    return row ? toView(row) : null;
  }

  async insertIfAbsent(f: NewFlag, db: Db): Promise<FlagView | null> {
    const rows = await db.flag.createManyAndReturn({
      data: [{ ...f, variants: f.variants, rules: f.rules as unknown as Prisma.InputJsonValue }],
      skipDuplicates: true,
    });
    return rows[0] ? toView(rows[0]) : null;
  }

  async list(opts: { afterId?: bigint; limit: number; includeArchived: boolean }): Promise<FlagView[]> {
    const rows = await this.prisma.client.flag.findMany({
      where: {
        ...(opts.afterId !== undefined ? { id: { gt: opts.afterId } } : {}),
        ...(opts.includeArchived ? {} : { archivedAt: null }),
      },
      orderBy: { id: 'asc' },
      take: opts.limit,
    });
    return rows.map(toView);
  }

  /** Every live flag, for the evaluation snapshot (flags are few: hundreds, not millions). */
  async listLive(): Promise<FlagView[]> {
    return (await this.prisma.client.flag.findMany({ where: { archivedAt: null }, orderBy: { id: 'asc' } })).map(toView);
  }

  /**
   * A number that grows with every change to any flag (versions only grow, rows are never
   * deleted): replicas compare it with their snapshot to heal a missed notification.
   */
  async changeStamp(): Promise<string> {
    const [r] = await this.prisma.client.$queryRaw<{ n: bigint; s: bigint }[]>`
      SELECT count(*)::bigint AS n, coalesce(sum(version), 0)::bigint AS s FROM flags`;
    return `${r.n}.${r.s}`;
  }

  /**
   * Compare-and-set on the version; with `whenUnfrozen`, also only while no campaign using
   * the flag is running or paused (salt, hash version and archiving). Returns rows changed.
   */
  async updateIfVersion(id: bigint, version: number, changes: FlagChanges, opts: { whenUnfrozen: boolean }, db: Db): Promise<number> {
    const r = await db.flag.updateMany({
      where: {
        id,
        version,
        ...(opts.whenUnfrozen ? { campaigns: { none: { status: { in: [...FREEZING] } } } } : {}),
      },
      data: { ...toData(changes), version: { increment: 1 } },
    });
    return r.count;
  }

  async usedByActiveCampaign(id: bigint, db: Db): Promise<boolean> {
    return (await db.campaign.count({ where: { flagId: id, status: { in: [...FREEZING] } } })) > 0;
  }
}
