import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config';
import type { AppConfig } from '../config/config.schema';
import { cutoverMetrics } from '../core/metrics/metrics';
import { Readiness } from '../core/health/readiness';
import { RedisEpoch } from '../core/redis/redis-epoch';
import { RedisService } from '../core/redis/redis.service';
import { compileFlag, REASONS, type CompiledFlag } from './evaluator';
import { flagFromNotice, FlagsNotifier, type FlagChangeNotice } from './flags.notifier';
import { FlagsRepository } from './flags.repository';
import type { FlagView } from './flags.types';
import { RatchetService, type RatchetNotice } from './ratchet.service';

export type SnapshotListener = (changedKeys: readonly string[]) => void;

/** What a flag configuration change event carries (OFREP event streams): an opaque tag and a time. */
export interface ConfigStamp {
  /** changes whenever any live flag's version does; equal on replicas holding the same flags */
  readonly etag: string;
  /** newest `updatedAt` this replica has seen, in Unix seconds */
  readonly lastModified: number;
}

/**
 * The in-memory snapshot an API replica evaluates from. A change notice (Redis pub/sub)
 * reloads one flag at once; a periodic check of the flags table's change stamp heals a
 * missed notice; the ratchet's bitmaps follow the same pattern. API processes only.
 */
@Injectable()
export class FlagSnapshotService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(FlagSnapshotService.name);
  private flags = new Map<string, CompiledFlag>();
  private stamp = '';
  private readonly listeners = new Set<SnapshotListener>();
  private timers: NodeJS.Timeout[] = [];
  private healing = false;
  private healAgain = false;
  private loaded = false;
  private config_: ConfigStamp = { etag: '', lastModified: 0 };
  private catchingUp?: Promise<void>;
  private stopLocal?: () => void;
  private readonly onMessage = (channel: string, message: string) => this.handleMessage(channel, message);

  constructor(
    private readonly repo: FlagsRepository,
    private readonly redis: RedisService,
    private readonly notifier: FlagsNotifier,
    private readonly ratchet: RatchetService,
    private readonly epoch: RedisEpoch,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    readiness: Readiness,
  ) {
    readiness.register('flagSnapshot', () => this.loaded);
  }

  async onModuleInit(): Promise<void> {
    this.stopLocal = this.notifier.onLocalChange((notice) =>
      this.reloadOne(notice).catch((err: unknown) => this.log.warn(`applying a local flag change failed; the periodic check will heal it: ${String(err)}`)),
    );
    const sub = this.redis.subscriber();
    sub.on('message', this.onMessage);
    await sub.subscribe(this.notifier.channel, this.ratchet.channel);
    await this.reloadAll();
    this.restamp();
    for (const f of this.flags.values()) {
      // a replica starting while a rebuild is under way must not trust the partial bitmap
      if (!(await this.ratchet.isSynced(f.id))) await this.ratchet.suspect(f.idKey);
      await this.ratchet.loadBitmap(f.idKey);
    }
    this.redis.failFast();
    this.epoch.onLoss(() => this.afterRedisLoss());
    this.loaded = true;
    // a rebuild after a lost Redis can take long at scale: never hold up startup for it
    this.every(this.config.flags.ratchetHealIntervalMs, () => this.healRatchets());
    void this.healRatchets().catch((err: unknown) => this.log.warn(`ratchet healing failed; retrying on the interval: ${String(err)}`));
    this.every(this.config.flags.syncIntervalMs, () => this.checkStamp());
    this.every(1000, () => this.flushCounts());
  }

  async onModuleDestroy(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.redis.subscriber().off('message', this.onMessage);
    this.stopLocal?.();
    this.flushCounts();
  }

  get(key: string): CompiledFlag | undefined {
    return this.flags.get(key);
  }

  all(): IterableIterator<CompiledFlag> {
    return this.flags.values();
  }

  get configStamp(): ConfigStamp {
    return this.config_;
  }

  /**
   * A client re-fetching after an event names the configuration it was told about; when this
   * replica holds another one (the event came from a replica that applied a change first), it
   * re-reads the flags table before answering. Concurrent callers share one check.
   */
  async catchUp(etag: string | undefined, lastModified: number | undefined): Promise<void> {
    const behind = (etag !== undefined && etag !== this.config_.etag) || (lastModified !== undefined && lastModified > this.config_.lastModified);
    if (!behind) return;
    this.catchingUp ??= this.checkStamp().finally(() => (this.catchingUp = undefined));
    await this.catchingUp;
  }

  onChange(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => {
      Promise.resolve(fn()).catch((err: unknown) => this.log.warn(`flag snapshot upkeep failed: ${String(err)}`));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private handleMessage(channel: string, message: string): void {
    const work =
      channel === this.notifier.channel
        ? this.reloadOne(JSON.parse(message) as FlagChangeNotice)
        : channel === this.ratchet.channel
          ? this.ratchet.applyNotice(JSON.parse(message) as RatchetNotice)
          : undefined;
    work?.catch((err: unknown) => this.log.warn(`applying ${channel} notice failed; the periodic check will heal it: ${String(err)}`));
  }

  private async reloadOne(notice: FlagChangeNotice): Promise<void> {
    const current = this.flags.get(notice.key);
    if (current && current.version >= notice.version) return;
    const view = flagFromNotice(notice) ?? (await this.repo.findByKey(notice.key));
    if (this.install(notice.key, view)) this.emit([notice.key]);
  }

  /** Installs a flag's new version (or removes it); false when the snapshot already had it. */
  private install(key: string, view: FlagView | null): boolean {
    const current = this.flags.get(key);
    if (view) this.seen(view.updatedAt);
    if (!view || view.archivedAt) {
      cutoverMetrics.flagKilled.remove({ flag: key });
      return current ? (this.retire(current), this.flags.delete(key)) : false;
    }
    if (current && current.version >= view.version) return false;
    if (current) this.retire(current);
    this.flags.set(key, compileFlag(view));
    cutoverMetrics.flagKilled.set({ flag: key }, view.killed ? 1 : 0);
    return true;
  }

  private async checkStamp(): Promise<void> {
    const stamp = await this.repo.changeStamp();
    if (stamp !== this.stamp) await this.reloadAll(stamp);
  }

  private async reloadAll(knownStamp?: string): Promise<void> {
    const stamp = knownStamp ?? (await this.repo.changeStamp());
    const live = await this.repo.listLive();
    const changed: string[] = [];
    const liveKeys = new Set(live.map((f) => f.key));
    for (const f of live) if (this.install(f.key, f)) changed.push(f.key);
    for (const key of [...this.flags.keys()]) if (!liveKeys.has(key) && this.install(key, null)) changed.push(key);
    this.stamp = stamp;
    if (changed.length > 0) this.emit(changed);
  }

  /** Every flag falls back to PostgreSQL at once; the rebuild starts without waiting for the interval. */
  private async afterRedisLoss(): Promise<void> {
    for (const f of [...this.flags.values()]) await this.ratchet.suspect(f.idKey);
    void this.healRatchets().catch((err: unknown) => this.log.warn(`ratchet healing failed; retrying on the interval: ${String(err)}`));
  }

  /** One pass at a time (a long rebuild must not pile up behind the interval); a pass asked for meanwhile runs after it. */
  private async healRatchets(): Promise<void> {
    if (this.healing) {
      this.healAgain = true;
      return;
    }
    this.healing = true;
    try {
      do {
        this.healAgain = false;
        for (const f of [...this.flags.values()]) {
          if (!(await this.ratchet.isSynced(f.id))) await this.ratchet.suspect(f.idKey);
          await this.ratchet.ensureSynced(f.id);
          await this.ratchet.loadBitmap(f.idKey);
          await this.ratchet.settleIfSynced(f.idKey);
        }
      } while (this.healAgain);
    } finally {
      this.healing = false;
    }
  }

  private seen(updatedAt: Date): void {
    const sec = Math.floor(updatedAt.getTime() / 1000);
    if (sec > this.config_.lastModified) this.config_ = { ...this.config_, lastModified: sec };
  }

  private restamp(): void {
    const versions = [...this.flags.values()].map((f) => `${f.key}:${f.version}`).sort();
    this.config_ = { ...this.config_, etag: createHash('sha1').update(versions.join(',')).digest('base64url') };
  }

  private emit(keys: readonly string[]): void {
    this.restamp();
    for (const l of this.listeners) l(keys);
  }

  private flushCounts(): void {
    for (const f of this.flags.values()) this.retire(f);
  }

  private retire(f: CompiledFlag): void {
    for (let i = 0; i < REASONS.length; i++) {
      if (f.counts[i] > 0) {
        cutoverMetrics.evaluations.inc({ flag: f.key, reason: REASONS[i] }, f.counts[i]);
        f.counts[i] = 0;
      }
    }
  }
}
