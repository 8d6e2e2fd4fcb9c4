import { Injectable } from '@nestjs/common';
import { evalError, evaluate, lastBucket, REASONS, type CompiledFlag, type EvalOutcome, type EvalResult } from './evaluator';
import { FlagSnapshotService } from './flag-snapshot.service';
import type { ConversationInput } from './ofrep.schemas';
import { RatchetService } from './ratchet.service';
import type { EvalContext } from './rules';

/** Why a participant holds a conversation back (first one, in the order given). */
export type NotReadyReason = 'flag_killed' | 'not_in_rollout' | 'not_capable';

export interface Participant {
  readonly targetingKey: string;
  readonly ctx: EvalContext;
  /** the context says every device of this participant can do E2EE */
  readonly capable: boolean;
}

export interface Conversation {
  readonly id: string;
  readonly participants: readonly Participant[];
}

/** One participant as the flag sees it without the ratchet (in memory, no I/O). */
export interface ParticipantCheck {
  readonly index: number;
  readonly ready: boolean;
  readonly why: NotReadyReason | null;
  readonly bucket: number;
  readonly variant: string;
  /** the ratchet may still make it ready: its bucket holds enabled users of this flag */
  readonly mayBeRatcheted: boolean;
}

const USER_ID = /^[0-9]{1,19}$/;

export function toConversation(input: ConversationInput): Conversation {
  return {
    id: input.id,
    participants: input.participants.map((p) =>
      typeof p === 'string' ? { targetingKey: p, ctx: { targetingKey: p }, capable: false } : { targetingKey: p.targetingKey, ctx: p, capable: p.e2eeCapable === true },
    ),
  };
}

/**
 * Conversation evaluation (docs/flags.md "Conversations"): the flag is on for a conversation
 * only when every participant is ready — enabled by a campaign (the ratchet) or given the
 * flag's on variant by its rules and rollout while E2EE-capable. Decided in memory for
 * everyone the bucket bitmaps rule out; the rest cost ONE Redis round trip together.
 */
@Injectable()
export class ConversationEvaluationService {
  constructor(
    private readonly snapshot: FlagSnapshotService,
    private readonly ratchet: RatchetService,
  ) {}

  evaluate(key: string, conv: Conversation): EvalOutcome | Promise<EvalOutcome> {
    const f = this.snapshot.get(key);
    if (!f) return evalError(key, 'FLAG_NOT_FOUND', `flag ${key} does not exist`);
    return this.evaluateFlag(f, conv);
  }

  evaluateFlag(f: CompiledFlag, conv: Conversation): EvalOutcome | Promise<EvalOutcome> {
    let lookups: ParticipantCheck[] | null = null;
    let blocker: ParticipantCheck | null = null;
    const ps = conv.participants;
    for (let i = 0; i < ps.length; i++) {
      // the common case first, allocation-free: on by rules or rollout, and capable
      const out = evaluate(f, ps[i].ctx);
      if (out.ok && ps[i].capable && out.variant === f.onVariant) continue;
      const c = this.check(f, ps[i], i, out);
      if (c === null) return evalError(f.key, 'TARGETING_KEY_MISSING', `participant ${i} has no targetingKey`);
      if (!c.mayBeRatcheted) {
        blocker = c;
        break;
      }
      (lookups ??= []).push(c);
    }
    if (lookups === null) return answer(f, conv, blocker);
    const asked = lookups;
    const users = asked.map((c) => ({ userId: BigInt(ps[c.index].targetingKey), bucket: c.bucket }));
    return this.ratchet.enabledAmong(f.id, users).then((enabled) => answer(f, conv, asked.find((_, i) => !enabled[i]) ?? blocker));
  }

  /** Every participant checked, with the ratchet asked for all who need it (one round trip): the operators' read. */
  async explain(f: CompiledFlag, conv: Conversation): Promise<{ outcome: EvalOutcome; participants: Array<ParticipantCheck & { ratchetEnabled: boolean }> }> {
    const checks = conv.participants.map((p, i) => this.check(f, p, i));
    if (checks.some((c) => c === null)) return { outcome: evalError(f.key, 'TARGETING_KEY_MISSING', 'a participant has no targetingKey'), participants: [] };
    const all = checks as ParticipantCheck[];
    const asked = all.filter((c) => !c.ready && c.mayBeRatcheted);
    const enabled = asked.length === 0 ? [] : await this.ratchet.enabledAmong(f.id, asked.map((c) => ({ userId: BigInt(conv.participants[c.index].targetingKey), bucket: c.bucket })));
    const ratcheted = new Set(asked.filter((_, i) => enabled[i]).map((c) => c.index));
    const participants = all.map((c) => ({ ...c, bucket: c.bucket >= 0 ? c.bucket : f.bucketer.bucket(conv.participants[c.index].targetingKey), ratchetEnabled: ratcheted.has(c.index), ready: c.ready || ratcheted.has(c.index) }));
    const first = participants.find((p) => !p.ready) ?? null;
    return { outcome: answer(f, conv, first, false), participants };
  }

  private check(f: CompiledFlag, p: Participant, index: number, out: EvalOutcome = evaluate(f, p.ctx)): ParticipantCheck | null {
    if (!out.ok) return null;
    const inRollout = out.variant === f.onVariant;
    const ready = inRollout && p.capable;
    // a participant ready in memory needs no bucket (the operators' read fills it in)
    const bucket = lastBucket.value >= 0 ? lastBucket.value : ready ? -1 : f.bucketer.bucket(p.targetingKey);
    const why: NotReadyReason | null = ready ? null : f.killed ? 'flag_killed' : inRollout ? 'not_capable' : 'not_in_rollout';
    const mayBeRatcheted = !ready && USER_ID.test(p.targetingKey) && this.ratchet.hasAny(f.idKey) && this.ratchet.mayBeEnabled(f.idKey, bucket);
    return { index, ready, why, bucket, variant: out.variant, mayBeRatcheted };
  }
}

const ON_INDEX = REASONS.indexOf('TARGETING_MATCH');
const DISABLED_INDEX = REASONS.indexOf('DISABLED');

/** The fixed start of each possible answer's JSON, per flag version (everything before the conversation's own fields). */
interface Prefixes {
  on: string;
  off: string;
}
const prefixes = new WeakMap<CompiledFlag, Prefixes>();

function prefixesOf(f: CompiledFlag): Prefixes {
  let p = prefixes.get(f);
  if (!p) {
    const start = (r: EvalResult, reason: string) =>
      `{"key":${JSON.stringify(f.key)},"value":${JSON.stringify(r.value)},"reason":"${reason}","variant":${JSON.stringify(r.variant)},"metadata":{"flagVersion":${f.version},"conversationId":`;
    p = { on: start(f.ratchet, 'TARGETING_MATCH'), off: f.killed ? start(f.disabled, 'DISABLED') : start(f.fallthrough.off, 'TARGETING_MATCH') };
    prefixes.set(f, p);
  }
  return p;
}

/** An answer built per conversation; `metadata` is parsed back from the JSON only if someone reads it. */
class ConversationResult implements EvalResult {
  readonly ok = true as const;
  constructor(
    readonly key: string,
    readonly value: EvalResult['value'],
    readonly variant: string,
    readonly reason: EvalResult['reason'],
    readonly reasonIndex: number,
    readonly json: string,
  ) {}

  get metadata(): Readonly<Record<string, unknown>> {
    return (JSON.parse(this.json) as { metadata: Record<string, unknown> }).metadata;
  }
}

/** The conversation's answer: on when nobody blocks it, else off naming the first participant who does. */
function answer(f: CompiledFlag, conv: Conversation, blocker: { index: number; why: NotReadyReason | null } | null, count = true): EvalResult {
  const base = blocker === null ? f.ratchet : f.killed ? f.disabled : f.fallthrough.off;
  const disabled = blocker !== null && f.killed;
  const reasonIndex = disabled ? DISABLED_INDEX : ON_INDEX;
  if (count) f.counts[reasonIndex]++;
  const p = prefixesOf(f);
  let json = `${blocker === null ? p.on : p.off}${JSON.stringify(conv.id)},"participants":${conv.participants.length}`;
  if (blocker !== null) json += `,"notReadyParticipant":${JSON.stringify(conv.participants[blocker.index].targetingKey)},"notReadyReason":"${blocker.why ?? 'not_enabled'}"`;
  return new ConversationResult(f.key, base.value, base.variant, REASONS[reasonIndex], reasonIndex, `${json}}}`);
}
