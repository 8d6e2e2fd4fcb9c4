import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config';
import type { AppConfig } from '../../config/config.schema';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../clock/clock';
import { PrismaService, type Db } from '../database/prisma.service';
import { NotFoundError } from '../errors/domain-error';
import { apiKeyMatches, eventStreamSignature, generateApiKey, hashApiKey, parseApiKey, parseEventStreamToken, signatureMatches } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';
import { SYSTEM_ACTOR, type Actor, type ApiKeyRecord, type ApiKeyView, type Role } from './auth.types';

const CACHE_TTL_MS = 5_000;

export function toKeyView(k: ApiKeyRecord): ApiKeyView {
  const { hash: _hash, ...rest } = k;
  return { ...rest, id: k.id.toString() };
}

@Injectable()
export class ApiKeysService {
  private readonly log = new Logger(ApiKeysService.name);
  /** prefix → record; short TTL so that a revocation on another replica lands within seconds */
  private readonly cache = new Map<string, { rec: ApiKeyRecord | null; until: number }>();

  constructor(
    private readonly repo: ApiKeysRepository,
    private readonly prisma: PrismaService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Returns the actor for a presented key, or null when it is unknown or revoked. */
  async authenticate(key: string): Promise<Actor | null> {
    const parsed = parseApiKey(key);
    if (!parsed) return null;
    const rec = await this.record(parsed.prefix);
    if (!rec || rec.revokedAt || !apiKeyMatches(key, rec.hash)) return null;
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

  async create(input: { name: string; role: Role }, actor: Actor): Promise<{ key: string; apiKey: ApiKeyView }> {
    const generated = generateApiKey();
    const rec = await this.prisma.transaction(async (tx) => {
      const created = await this.repo.insert(
        { name: input.name, role: input.role, prefix: generated.prefix, hash: generated.hash, createdBy: actor.id },
        tx,
      );
      await this.audit.record(
        { actor, action: 'api_key.created', entityType: 'api_key', entityId: created.id.toString(), after: toKeyView(created) },
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

  /** Idempotent: revoking a revoked key returns it unchanged and writes no audit row. */
  async revoke(id: bigint, reason: string | undefined, actor: Actor): Promise<ApiKeyView> {
    const rec = await this.prisma.transaction(async (tx) => {
      const before = await this.repo.findById(id, tx);
      if (!before) throw new NotFoundError('api_key', id);
      if (await this.repo.markRevoked(id, this.clock.now(), tx)) {
        const after = (await this.repo.findById(id, tx))!;
        await this.audit.record(
          { actor, action: 'api_key.revoked', entityType: 'api_key', entityId: id.toString(), before: toKeyView(before), after: toKeyView(after), reason },
          tx,
        );
        return after;
      }
      return before;
    });
    this.cache.delete(rec.prefix);
    return toKeyView(rec);
  }

  /**
   * Registers the keys named in the configuration (AUTH_ADMIN_KEY, AUTH_EVALUATOR_KEY) and
   * makes sure an admin key exists: without AUTH_ADMIN_KEY and without any active admin, a new
   * one is returned to be printed once. Safe when several replicas start at once (advisory lock).
   */
  async bootstrapKeys(): Promise<string | null> {
    const { adminKey, evaluatorKey } = this.config.auth;
    return this.prisma.transaction(async (tx) => {
      await this.repo.lockForBootstrap(tx);
      if (evaluatorKey) await this.registerConfigured(evaluatorKey, 'evaluator', 'bootstrap evaluator (AUTH_EVALUATOR_KEY)', tx);
      if (adminKey) {
        await this.registerConfigured(adminKey, 'admin', 'bootstrap admin (AUTH_ADMIN_KEY)', tx);
        return null;
      }
      if ((await this.repo.countActiveAdmins(tx)) > 0) return null;
      const g = generateApiKey();
      const created = await this.repo.insert({ name: 'bootstrap admin', role: 'admin', prefix: g.prefix, hash: g.hash, createdBy: 'system' }, tx);
      await this.audit.record({ actor: SYSTEM_ACTOR('bootstrap'), action: 'api_key.created', entityType: 'api_key', entityId: created.id.toString(), after: toKeyView(created) }, tx);
      this.log.log(`created the first admin key (prefix ${g.prefix}); it is printed once on stdout`);
      return g.key;
    });
  }

  private async registerConfigured(key: string, role: Role, name: string, tx: Db): Promise<void> {
    const prefix = parseApiKey(key)!.prefix;
    const input = { name, role, prefix, hash: hashApiKey(key), createdBy: 'system' };
    if (await this.repo.insertIfAbsent(input, tx)) {
      await this.audit.record({ actor: SYSTEM_ACTOR('bootstrap'), action: 'api_key.created', entityType: 'api_key', entityId: prefix, after: { name, role, prefix } }, tx);
    }
  }
}
