import { Injectable } from '@nestjs/common';
import { evalError, evaluate, lastBucket, REASONS, targetingKeyOf, type CompiledFlag, type EvalOutcome, type EvalResult } from './evaluator';
import { FlagSnapshotService } from './flag-snapshot.service';
import { RatchetService } from './ratchet.service';
import type { EvalContext } from './rules';

const ERROR_INDEX = REASONS.indexOf('ERROR');

/**
 * Evaluation from the in-memory snapshot, with the ratchet on top: a user already enabled
 * for the flag stays on whatever the kill switch, rollout or rules say. Synchronous unless
 * the user's bucket is occupied in the ratchet bitmap and the answer would otherwise be off.
 */
@Injectable()
export class FlagEvaluationService {
  constructor(
    private readonly snapshot: FlagSnapshotService,
    private readonly ratchet: RatchetService,
  ) {}

  evaluate(key: string, ctx: EvalContext): EvalOutcome | Promise<EvalOutcome> {
    const f = this.snapshot.get(key);
    if (!f) return evalError(key, 'FLAG_NOT_FOUND', `flag ${key} does not exist`);
    return this.evaluateFlag(f, ctx);
  }

  /** Every live flag for one context (OFREP bulk). */
  evaluateAll(ctx: EvalContext): Array<EvalOutcome | Promise<EvalOutcome>> {
    const out: Array<EvalOutcome | Promise<EvalOutcome>> = [];
    for (const f of this.snapshot.all()) out.push(this.evaluateFlag(f, ctx));
    return out;
  }

  evaluateFlag(f: CompiledFlag, ctx: EvalContext): EvalOutcome | Promise<EvalOutcome> {
    const out = evaluate(f, ctx);
    if (!out.ok) {
      f.counts[ERROR_INDEX]++;
      return out;
    }
    if (out.variant === f.onVariant || !this.ratchet.hasAny(f.idKey)) return count(f, out);
    const key = targetingKeyOf(ctx);
    if (key === null) return count(f, out);
    const bucket = lastBucket.value >= 0 ? lastBucket.value : f.bucketer.bucket(key);
    if (!this.ratchet.mayBeEnabled(f.idKey, bucket)) return count(f, out);
    return this.ratchet.isEnabled(f.id, key, bucket).then((on) => count(f, on ? f.ratchet : out));
  }
}

function count(f: CompiledFlag, r: EvalResult): EvalResult {
  f.counts[r.reasonIndex]++;
  return r;
}
