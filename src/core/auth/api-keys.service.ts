import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../clock/clock';
import { PrismaService, type Db } from '../database/prisma.service';
import { ConflictError, NotFoundError } from '../errors/domain-error';
import { RedisService } from '../redis/redis.service';
import { apiKeyMatches, eventStreamSignature, generateApiKey, hashApiKey, parseApiKey, parseEventStreamToken, signatureMatches } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';
import { SYSTEM_ACTOR, type Actor, type ApiKeyRecord, type ApiKeyView, type Role } from './auth.types';
import { LastUsedRecorder } from './last-used';

const CACHE_TTL_MS = 5_000;
const RECOVERY = 'see "Lost admin key" in docs/operations.md (cutover-admin mint-admin-key)';

export function toKeyView(k: ApiKeyRecord): ApiKeyView {
  const { hash: _hash, ...rest } = k;
  return { ...rest, id: k.id.toString() };
}

/**
 * API keys: authentication through a per-replica cache, creation, revocation. A revocation is
 * published on Redis and every replica drops the key from its cache at once; the cache's
 * short TTL bounds a notice lost while a replica's subscription was down.
 */
@Injectable()
export class ApiKeysService implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(ApiKeysService.name);
  /** prefix → record */
  private readonly cache = new Map<string, { rec: ApiKeyRecord | null; until: number }>();
  private readonly lastUsed: LastUsedRecorder;
  private readonly channel?: string;
  private readonly onMessage = (channel: string, prefix: string) => {
    if (channel === this.channel) this.cache.delete(prefix);
  };

  constructor(
    private readonly repo: ApiKeysRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // absent in the machine-side admin tool, which only mints keys
    @Optional() private readonly redis?: RedisService,
  ) {
    this.lastUsed = new LastUsedRecorder((id, at) => this.repo.touchLastUsed(id, at), (m) => this.log.warn(m));
    this.channel = redis?.key('api-keys', 'revoked');
  }

  async onModuleInit(): Promise<void> {
    if (!this.redis || !this.channel) return;
    const sub = this.redis.subscriber();
    sub.on('message', this.onMessage);
    await sub.subscribe(this.channel);
  }

  async onModuleDestroy(): Promise<void> {
    this.redis?.subscriber().off('message', this.onMessage);
    await this.lastUsed.settle();
  }

  async authenticate(key: string): Promise<Actor | null> {
    const parsed = parseApiKey(key);
    if (!parsed) return null;
    const rec = await this.record(parsed.prefix);
    if (!rec || rec.revokedAt || !apiKeyMatches(key, rec.hash)) return null;
    this.lastUsed.touch(rec.id, this.clock.nowMs());
    return { id: rec.id.toString(), name: rec.name, role: rec.role };
  }

  /**
   * A token that opens the OFREP event stream for this key (a browser's EventSource cannot
   * send an Authorization header, so the stream URL carries it). Derived from the stored hash:
   * stable for the key's life, useless for anything but the event stream, dead with the key.
   */
  async eventStreamToken(key: string): Promise<string | null> {
    const parsed = parseApiKey(key);
    const rec = parsed ? await this.record(parsed.prefix) : null;
    return rec && !rec.revokedAt && apiKeyMatches(key, rec.hash) ? `${rec.prefix}.${eventStreamSignature(rec.hash)}` : null;
  }

  /** The actor an event-stream token stands for, or null when it is malformed, forged or its key revoked. */
  async authenticateEventStreamToken(token: string): Promise<Actor | null> {
    const parsed = parseEventStreamToken(token);
    const rec = parsed ? await this.record(parsed.prefix) : null;
    if (!rec || rec.revokedAt || !signatureMatches(parsed!.signature, eventStreamSignature(rec.hash))) return null;
    return { id: rec.id.toString(), name: rec.name, role: rec.role };
  }

  private async record(prefix: string): Promise<ApiKeyRecord | null> {
    const now = this.clock.nowMs();
    let entry = this.cache.get(prefix);
    if (!entry || entry.until < now) {
      entry = { rec: await this.repo.findByPrefix(prefix), until: now + CACHE_TTL_MS };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(prefix, entry);
    }
    return entry.rec;
  }

  /** Waits for the last-use writes already started (tests). */
  settleLastUsed(): Promise<void> {
    return this.lastUsed.settle();
  }

  async create(input: { name: string; role: Role }, actor: Actor, reason?: string): Promise<{ key: string; apiKey: ApiKeyView }> {
    const generated = generateApiKey();
    const rec = await this.prisma.transaction(async (tx) => {
      const created = await this.repo.insert(
        { name: input.name, role: input.role, prefix: generated.prefix, hash: generated.hash, createdBy: actor.id },
        tx,
      );
      await this.audit.record(
        { actor, action: 'api_key.created', entityType: 'api_key', entityId: created.id.toString(), after: toKeyView(created), reason },
        tx,
      );
      return created;
    });
    return { key: generated.key, apiKey: toKeyView(rec) };
  }

  async list(opts: { afterId?: bigint; limit: number; includeRevoked: boolean }) {
    const items = (await this.repo.list(opts)).map(toKeyView);
    return { items, nextCursor: items.length === opts.limit ? items[items.length - 1].id : null };
  }

  /**
   * Idempotent: revoking a revoked key returns it unchanged and writes no audit row. Never
   * revokes the last active admin key; the caller's own key only with `force`.
   */
  async revoke(id: bigint, opts: { reason?: string; force?: boolean }, actor: Actor): Promise<ApiKeyView> {
    const rec = await this.prisma.transaction(async (tx) => {
      await this.repo.lockAdminKeys(tx);
      const before = await this.repo.findById(id, tx);
      if (!before) throw new NotFoundError('api_key', id);
      if (before.revokedAt) return before;
      if (before.role === 'admin' && (await this.repo.countActiveAdmins(tx)) <= 1) {
        throw new ConflictError('api_key.last_admin', `key ${id} is the last active admin key: revoking it would lock every admin out. Create another admin key first; ${RECOVERY}`, { id: id.toString() });
      }
      if (actor.id === id.toString() && !opts.force) {
        throw new ConflictError('api_key.own_key', `key ${id} is the key making this request: revoking it ends your own access. Send "force": true (CLI: --force) to revoke it anyway`, { id: id.toString(), force: false });
      }
      await this.repo.markRevoked(id, this.clock.now(), tx);
      const after = (await this.repo.findById(id, tx))!;
      const audit = { actor, action: 'api_key.revoked', entityType: 'api_key', entityId: id.toString(), before: toKeyView(before), after: toKeyView(after), reason: opts.reason };
      await this.audit.record(audit, tx);
      return after;
    });
    this.cache.delete(rec.prefix);
    if (this.redis && this.channel) {
      await this.redis.client.publish(this.channel, rec.prefix).catch((err: unknown) => this.log.warn(`could not announce the revocation of key ${id}; other replicas drop it within ${CACHE_TTL_MS} ms: ${String(err)}`));
    }
    return toKeyView(rec);
  }

  /**
   * Registers the keys named in the configuration (AUTH_ADMIN_KEY, AUTH_EVALUATOR_KEY; safe
   * when several replicas start at once) and says when no admin key works. Never creates or
   * prints a key: keys come from the environment (a file locally, a Secret in Kubernetes) or
   * from `cutover-admin mint-admin-key`.
   */
  async bootstrapKeys(): Promise<void> {
    const { adminKey, evaluatorKey } = this.config.auth;
    await this.prisma.transaction(async (tx) => {
      await this.repo.lockAdminKeys(tx);
      if (evaluatorKey) await this.registerConfigured(evaluatorKey, 'evaluator', 'bootstrap evaluator (AUTH_EVALUATOR_KEY)', tx);
      if (adminKey && !(await this.registerConfigured(adminKey, 'admin', 'bootstrap admin (AUTH_ADMIN_KEY)', tx))) {
        const prefix = parseApiKey(adminKey)!.prefix;
        if ((await this.repo.findByPrefix(prefix))?.revokedAt) this.log.warn(`AUTH_ADMIN_KEY (prefix ${prefix}) is revoked and does not authenticate; ${RECOVERY}`);
      }
      if ((await this.repo.countActiveAdmins(tx)) === 0) this.log.warn(`no active admin key exists; ${RECOVERY}`);
    });
  }

  private async registerConfigured(key: string, role: Role, name: string, tx: Db): Promise<boolean> {
    const prefix = parseApiKey(key)!.prefix;
    const input = { name, role, prefix, hash: hashApiKey(key), createdBy: 'system' };
    if (!(await this.repo.insertIfAbsent(input, tx))) return false;
    await this.audit.record({ actor: SYSTEM_ACTOR('bootstrap'), action: 'api_key.created', entityType: 'api_key', entityId: prefix, after: { name, role, prefix } }, tx);
    return true;
  }
}
