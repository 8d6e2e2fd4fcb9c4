import type { Redis } from 'ioredis';
import { MigrationBackend, type BackendBatchRequest, type BackendOutcome } from './backend.port';

export interface SimulatedBackendOptions {
  /** mean latency of one batch call; exponentially distributed around it */
  latencyMs: number;
  transientFailureRatio: number;
  permanentFailureRatio: number;
  /** 0 = unlimited; otherwise calls wait for capacity (a token bucket over users) */
  maxUsersPerSecond: number;
  /** Redis key prefix under which effects are recorded */
  keyPrefix: string;
  random?: () => number;
}

/**
 * A stand-in for the E2EE backend, used by the demo, tests and benchmarks. Every successful
 * call is counted per idempotency key in ONE Redis hash (`HINCRBY`): a key's first call is its
 * effect, a later one with the same key is a replay that returns `enabled` again without a
 * second effect. So the hash's keys are the effects (each at most once) and its values how many
 * calls carried each key, and anyone can prove nobody was set up twice.
 *
 * Permanent failures are sticky per key (decided by a hash of the key), transient ones are
 * random per call, as they would be in a real service.
 */
export class SimulatedBackend extends MigrationBackend {
  private readonly random: () => number;
  private tokens = 0;
  private lastRefill = Date.now();

  constructor(
    private readonly redis: Redis,
    private readonly opts: SimulatedBackendOptions,
  ) {
    super();
    this.random = opts.random ?? Math.random;
  }


  async enableBatch(req: BackendBatchRequest): Promise<BackendOutcome[]> {
    await this.throttle(req.users.length);
    await this.delay();
    const outcomes: BackendOutcome[] = [];
    const toApply: string[] = [];
    for (const u of req.users) {
      if (stickyPermanent(u.idempotencyKey, this.opts.permanentFailureRatio)) {
        outcomes.push({ userId: u.userId, status: 'permanent', reason: 'backend: account cannot be migrated (simulated permanent failure)' });
      } else if (this.random() < this.opts.transientFailureRatio) {
        outcomes.push({ userId: u.userId, status: 'transient', reason: 'backend: temporarily unavailable (simulated transient failure)' });
      } else {
        outcomes.push({ userId: u.userId, status: 'enabled' });
        toApply.push(u.idempotencyKey);
      }
    }
    if (toApply.length > 0) await this.applyEffects(toApply);
    return outcomes;
  }

  get callsKey(): string {
    return `${this.opts.keyPrefix}:sim-backend:calls`;
  }

  /** Keys whose effect took place (each at most once: the backend is idempotent per key). */
  async effectKeys(): Promise<string[]> {
    return this.redis.hkeys(this.callsKey);
  }

  async effectCount(): Promise<number> {
    return this.redis.hlen(this.callsKey);
  }

  /** How many successful calls carried each key (> 1 after a replay: reaper, killed worker). */
  async callsPerKey(): Promise<Map<string, number>> {
    const raw = await this.redis.hgetall(this.callsKey);
    return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  /**
   * The first call with a key applies the effect (the key enters the hash); a replay with the
   * same key only counts the call. A caller that derived a new key per attempt would show up
   * here as two effect keys for one user.
   */
  private async applyEffects(keys: readonly string[]): Promise<void> {
    await this.redis.eval(APPLY, 1, this.callsKey, ...keys);
  }

  private async delay(): Promise<void> {
    if (this.opts.latencyMs <= 0) return;
    const ms = -Math.log(1 - this.random()) * this.opts.latencyMs;
    await sleep(Math.min(ms, this.opts.latencyMs * 10));
  }

  private async throttle(users: number): Promise<void> {
    const cap = this.opts.maxUsersPerSecond;
    if (cap <= 0) return;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(cap, this.tokens + ((now - this.lastRefill) / 1000) * cap);
      this.lastRefill = now;
      if (this.tokens >= Math.min(users, cap)) {
        this.tokens -= users;
        return;
      }
      await sleep(Math.ceil(((Math.min(users, cap) - this.tokens) / cap) * 1000));
    }
  }
}

/** One round trip for a whole batch: every call is counted, the first one per key is its effect. */
const APPLY = `
for i = 1, #ARGV do
  redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
end
return #ARGV`;

/** A deterministic share of keys fails permanently, whichever worker or attempt asks. */
export function stickyPermanent(key: string, ratio: number): boolean {
  if (ratio <= 0) return false;
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296 < ratio;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
