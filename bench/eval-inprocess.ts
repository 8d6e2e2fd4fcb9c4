/**
 * In-process evaluation cost: FlagEvaluationService over 1M distinct users vs the bare bucket
 * hash. Passes of the variants are interleaved and timed in this process's CPU time as well
 * as wall time, so that other processes on the machine distort the ratio as little as possible.
 */
import { createHash } from 'node:crypto';
import { SaltedBucketer } from '../src/flags/bucketing';
import { compileFlag, type CompiledFlag, type EvalOutcome } from '../src/flags/evaluator';
import { ConversationEvaluationService, type Conversation } from '../src/flags/conversation-evaluation.service';
import { FlagEvaluationService } from '../src/flags/flag-evaluation.service';
import type { FlagSnapshotService } from '../src/flags/flag-snapshot.service';
import type { FlagView } from '../src/flags/flags.types';
import { RatchetService } from '../src/flags/ratchet.service';
import type { RedisService } from '../src/core/redis/redis.service';

const USERS = 1_000_000;
const PASSES = 7;
const BULK_CONTEXTS = 50_000;

function view(key: string, over: Partial<FlagView>): FlagView {
  const at = new Date();
  return {
    id: 1n, key, description: '', kind: 'boolean', variants: { on: true, off: false }, offVariant: 'off', rolloutVariant: 'on', rules: [],
    rolloutPpm: 300_000, salt: 'b7c1e0d2a9f34e51', hashVersion: 1, killed: false, killReason: null, killedAt: null, archivedAt: null,
    version: 1, createdAt: at, updatedAt: at, ...over,
  };
}

function contexts(): Array<Record<string, unknown>> {
  const countries = ['DE', 'FR', 'US', 'BR', 'IN', 'JP', 'NG', 'AT'];
  const out = new Array<Record<string, unknown>>(USERS);
  for (let i = 0; i < USERS; i++) {
    out[i] = { targetingKey: String(1_000_000_007 + i * 7919), country: countries[i & 7], appVersion: `5.${i % 13}.${i % 7}`, platform: i & 1 ? 'ios' : 'android' };
  }
  return out;
}

const RULES = [
  { conditions: [{ attribute: 'country', operator: 'in' as const, values: ['DE', 'AT'] }, { attribute: 'appVersion', operator: 'semver_gte' as const, value: '5.6.0' }], variant: 'on' },
  { conditions: [{ attribute: 'platform', operator: 'equals' as const, value: 'web' }], variant: 'off' },
];

interface Variant {
  name: string;
  calls: number;
  run: () => number;
  cpu: number[];
  wall: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export function inProcessRows(): Array<Array<string | number>> {
  const ctxs = contexts();
  const flags: CompiledFlag[] = [
    compileFlag(view('rollout', {})),
    compileFlag(view('rules', { rules: RULES })),
    compileFlag(view('killed', { id: 2n, killed: true })),
  ];
  const bulkFlags = Array.from({ length: 20 }, (_, i) => compileFlag(view(`bulk-${i}`, { id: BigInt(10 + i), rolloutPpm: 50_000 * i, rules: i % 2 ? RULES : [] })));
  const all = [...flags, ...bulkFlags];
  const snapshot = { get: (k: string) => all.find((f) => f.key === k), all: () => bulkFlags.values() } as unknown as FlagSnapshotService;
  const ratchet = new RatchetService({ key: (...p: unknown[]) => p.join(':') } as unknown as RedisService, null as never, null as never, { flags: { ratchetFallbackConcurrency: 1 } } as never);
  // an admission flag with enabled users in another bucket: every off answer consults the bitmap
  void ratchet.applyNotice({ f: '2', b: [999_999] });
  const service = new FlagEvaluationService(snapshot, ratchet);
  const bucketer = new SaltedBucketer('b7c1e0d2a9f34e51');
  const conversations = new ConversationEvaluationService(snapshot, ratchet);
  const pairs: Conversation[] = Array.from({ length: USERS / 2 }, (_, i) => ({
    id: `c${i}`,
    participants: [ctxs[2 * i], ctxs[2 * i + 1]].map((ctx) => ({ targetingKey: ctx.targetingKey as string, ctx, capable: true })),
  }));

  const evalLoop = (f: CompiledFlag) => () => {
    let on = 0;
    for (let i = 0; i < USERS; i++) {
      const out = service.evaluateFlag(f, ctxs[i]) as EvalOutcome;
      if (out.ok && out.value === true) on++;
    }
    return on;
  };
  const variants: Variant[] = [
    { name: 'bucket hash only (baseline)', calls: USERS, cpu: [], wall: [], run: () => {
      let s = 0;
      for (let i = 0; i < USERS; i++) s += bucketer.bucket(ctxs[i].targetingKey as string);
      return s;
    } },
    { name: 'fallthrough rollout 30%', calls: USERS, cpu: [], wall: [], run: evalLoop(flags[0]) },
    { name: '2 rules (in + semver) then rollout 30%', calls: USERS, cpu: [], wall: [], run: evalLoop(flags[1]) },
    { name: 'killed, ratchet bitmap consulted', calls: USERS, cpu: [], wall: [], run: evalLoop(flags[2]) },
    { name: 'conversation of 2, rollout 30% (per conversation)', calls: USERS / 2, cpu: [], wall: [], run: () => {
      let on = 0;
      for (let i = 0; i < pairs.length; i++) {
        const out = conversations.evaluateFlag(flags[0], pairs[i]) as EvalOutcome;
        if (out.ok && out.value === true) on++;
      }
      return on;
    } },
    { name: 'bulk body: 20 flags + serialise + SHA-1 ETag (per request)', calls: BULK_CONTEXTS, cpu: [], wall: [], run: () => {
      let n = 0;
      for (let i = 0; i < BULK_CONTEXTS; i++) {
        const body = `{"flags":[${(service.evaluateAll(ctxs[i]) as EvalOutcome[]).map((o) => o.json).join(',')}]}`;
        n += createHash('sha1').update(body).digest('base64url').length;
      }
      return n;
    } },
  ];
  let sink = 0;
  for (const v of variants) sink += v.run();
  for (let p = 0; p < PASSES; p++) {
    for (const v of variants) {
      const c0 = process.cpuUsage();
      const w0 = process.hrtime.bigint();
      sink += v.run();
      const w = Number(process.hrtime.bigint() - w0);
      const c = process.cpuUsage(c0);
      v.wall.push(w / v.calls);
      v.cpu.push(((c.user + c.system) * 1000) / v.calls);
    }
  }
  if (sink === -1) process.stdout.write('');
  const base = median(variants[0].cpu);
  return variants.map((v) => [v.name, median(v.cpu).toFixed(1), median(v.wall).toFixed(1), v.calls === BULK_CONTEXTS ? '-' : `${(median(v.cpu) / base).toFixed(2)}×`]);
}
