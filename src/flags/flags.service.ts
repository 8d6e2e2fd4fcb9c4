import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AuditService } from '../core/audit/audit.service';
import type { Actor } from '../core/auth/auth.types';
import { Clock } from '../core/clock/clock';
import { PrismaService } from '../core/database/prisma.service';
import { cutoverMetrics } from '../core/metrics/metrics';
import { NotFoundError, VersionConflictError } from '../core/errors/domain-error';
import { ValidationError } from '../core/validation/zod.pipe';
import { FlagsNotifier } from './flags.notifier';
import { assertFlagShape, FlagArchivedError, FlagKeyTakenError, SaltFrozenError } from './flags.errors';
import { FlagsRepository } from './flags.repository';
import { percentToPpm, type CreateFlagInput, type UpdateFlagInput } from './flags.schemas';
import type { FlagChanges, FlagView, NewFlag } from './flags.types';

export interface WriteContext {
  actor: Actor;
  reason?: string;
  /** compare-and-set: the version the caller last read (If-Match) */
  expectedVersion?: number;
}

type Compute = (before: FlagView) => FlagChanges | null;

function ppmOf(v: { rolloutPpm?: number; rolloutPercent?: number }): number | undefined {
  return v.rolloutPpm ?? (v.rolloutPercent !== undefined ? percentToPpm(v.rolloutPercent) : undefined);
}

/** Only the fields that differ; null when nothing would change (a repeated write is a no-op). */
function diff(before: FlagView, wanted: FlagChanges): FlagChanges | null {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(wanted)) {
    if (v !== undefined && JSON.stringify(v) !== JSON.stringify(before[k as keyof FlagView])) out[k] = v;
  }
  return Object.keys(out).length > 0 ? (out as FlagChanges) : null;
}

function newFlag(input: CreateFlagInput): NewFlag {
  const boolean = input.kind === 'boolean';
  const missing = (['variants', 'offVariant', 'rolloutVariant'] as const).filter((f) => !boolean && input[f] === undefined);
  if (missing.length > 0) throw new ValidationError(missing.map((f) => ({ field: `body.${f}`, message: 'required for a string flag' })));
  return {
    key: input.key,
    description: input.description ?? '',
    kind: input.kind,
    variants: input.variants ?? { on: true, off: false },
    offVariant: input.offVariant ?? 'off',
    rolloutVariant: input.rolloutVariant ?? 'on',
    rules: input.rules ?? [],
    rolloutPpm: ppmOf(input) ?? 0,
    salt: input.salt ?? randomBytes(8).toString('hex'),
    hashVersion: input.hashVersion ?? 1,
  };
}

/** Flag lifecycle: every write is a compare-and-set plus its audit row, then a change notice to every replica. */
@Injectable()
export class FlagsService {
  constructor(
    private readonly repo: FlagsRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly notifier: FlagsNotifier,
    private readonly clock: Clock,
  ) {}

  async getFlag(key: string): Promise<FlagView> {
    const f = await this.repo.findByKey(key);
    if (!f) throw new NotFoundError('flag', key);
    return f;
  }

  async getFlagById(id: bigint): Promise<FlagView> {
    const f = await this.repo.findById(id);
    if (!f) throw new NotFoundError('flag', id);
    return f;
  }

  async list(opts: { afterId?: bigint; limit: number; includeArchived: boolean }): Promise<{ items: FlagView[]; nextCursor: string | null }> {
    const items = await this.repo.list(opts);
    return { items, nextCursor: items.length === opts.limit ? items[items.length - 1].id.toString() : null };
  }

  async create(input: CreateFlagInput, actor: Actor): Promise<FlagView> {
    const f = newFlag(input);
    assertFlagShape(f);
    const created = await this.prisma.transaction(async (tx) => {
      const row = await this.repo.insertIfAbsent(f, tx);
      if (!row) throw new FlagKeyTakenError(f.key);
      await this.audit.record({ actor, action: 'flag.created', entityType: 'flag', entityId: row.key, after: row }, tx);
      return row;
    });
    await this.notifier.changed(created);
    return created;
  }

  update(key: string, input: UpdateFlagInput, ctx: WriteContext): Promise<FlagView> {
    const { reason: _reason, rolloutPercent: _p, rolloutPpm: _ppm, ...rest } = input;
    const wanted: FlagChanges = { ...rest, rolloutPpm: ppmOf(input) };
    return this.change(key, 'flag.updated', ctx, (before) => {
      const changes = diff(before, wanted);
      if (changes) assertFlagShape({ ...before, ...changes } as FlagView);
      return changes;
    });
  }

  setRollout(key: string, input: { ppm: number }, ctx: WriteContext): Promise<FlagView> {
    return this.change(key, 'flag.rollout_changed', ctx, (before) => diff(before, { rolloutPpm: input.ppm }));
  }

  kill(key: string, ctx: WriteContext): Promise<FlagView> {
    return this.change(key, 'flag.killed', ctx, (before) =>
      before.killed ? null : { killed: true, killReason: ctx.reason ?? null, killedAt: this.clock.now() },
    );
  }

  revive(key: string, ctx: WriteContext): Promise<FlagView> {
    return this.change(key, 'flag.revived', ctx, (before) => (before.killed ? { killed: false, killReason: null, killedAt: null } : null));
  }

  archive(key: string, ctx: WriteContext): Promise<FlagView> {
    return this.change(key, 'flag.archived', ctx, (before) => (before.archivedAt ? null : { archivedAt: this.clock.now() }), true);
  }

  /**
   * Read, compute, conditional update, audit — one transaction. A write that changes nothing
   * returns the flag as it is (safe to repeat) without checking the version.
   */
  private async change(key: string, action: string, ctx: WriteContext, compute: Compute, allowArchived = false): Promise<FlagView> {
    // A writer that named no version (the ramp, not an operator's If-Match) and lost the
    // compare-and-set to a concurrent write computes again from the new row (which often
    // needs no change any more) instead of failing: two ramp controllers setting the same
    // step's rollout at once made the loser throw.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.changeOnce(key, action, ctx, compute, allowArchived);
      } catch (err) {
        if (!(err instanceof VersionConflictError) || ctx.expectedVersion !== undefined || attempt >= 3) throw err;
      }
    }
  }

  private async changeOnce(key: string, action: string, ctx: WriteContext, compute: Compute, allowArchived: boolean): Promise<FlagView> {
    const result = await this.prisma.transaction(async (tx) => {
      const before = await this.repo.findByKey(key, tx);
      if (!before) throw new NotFoundError('flag', key);
      const changes = compute(before);
      if (!changes) return { flag: before, changed: false };
      if (before.archivedAt && !allowArchived) throw new FlagArchivedError(key);
      if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== before.version) {
        throw new VersionConflictError('flag', ctx.expectedVersion, before.version);
      }
      const frozenField = changes.salt !== undefined ? 'salt' : changes.hashVersion !== undefined ? 'hash version' : changes.archivedAt ? 'archiving' : null;
      if (!(await this.repo.updateIfVersion(before.id, before.version, changes, { whenUnfrozen: frozenField !== null }, tx))) {
        if (frozenField && (await this.repo.usedByActiveCampaign(before.id, tx))) throw new SaltFrozenError(key, frozenField);
        throw new VersionConflictError('flag', before.version);
      }
      const after = (await this.repo.findById(before.id, tx))!;
      await this.audit.record({ actor: ctx.actor, action, entityType: 'flag', entityId: key, before, after, reason: ctx.reason }, tx);
      return { flag: after, changed: true };
    });
    if (!result.changed) return result.flag;
    if (action === 'flag.killed' || action === 'flag.revived') cutoverMetrics.flagKillSwitch.inc({ flag: key, action: action.slice('flag.'.length) });
    await this.notifier.changed(result.flag);
    return result.flag;
  }
}
