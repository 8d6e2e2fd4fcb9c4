/** The answer checks of the k6 scenarios (load-tests/lib/*.js), for the Node benches. */
export const OFREP_REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT', 'CACHED', 'UNKNOWN', 'ERROR'];

/** load-tests/lib/ofrep.js isOfrepSuccess */
export function isOfrepSuccess(body: any, flagKey: string): boolean {
  return (
    !!body &&
    body.key === flagKey &&
    typeof body.value === 'boolean' &&
    typeof body.variant === 'string' &&
    OFREP_REASONS.includes(body.reason) &&
    body.errorCode === undefined
  );
}

/** load-tests/evaluate-bulk.js hasAllFlags */
export function hasAllFlags(body: any, flagKeys: string[]): boolean {
  if (!body || !Array.isArray(body.flags)) return false;
  const byKey = new Map<string, unknown>(body.flags.map((f: any) => [f.key, f]));
  return flagKeys.every((k) => isOfrepSuccess(byKey.get(k), k));
}

export function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const STATES = ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held'];

/** load-tests/lib/campaign.js isProgress */
export function isProgress(body: any): boolean {
  if (!body || typeof body !== 'object' || !body.campaign || typeof body.campaign.status !== 'string') return false;
  const counts = body.counts;
  return !!counts && [...STATES, 'total'].every((s) => typeof counts[s] === 'number');
}

export interface OptInAnswer {
  status: number;
  code: string | null;
  userId: string | null;
  state: string | null;
}

/** load-tests/opt-in-storm.js answerOf */
export function answerOf(status: number, body: any): OptInAnswer {
  const b = body ?? {};
  return { status, code: b.code ?? null, userId: b.userId === undefined ? null : String(b.userId), state: b.state ?? null };
}

/** load-tests/opt-in-storm.js sameAnswer */
export function sameAnswer(first: OptInAnswer, again: OptInAnswer): boolean {
  if (Math.floor(first.status / 100) !== Math.floor(again.status / 100) || first.code !== again.code) return false;
  if (first.userId !== again.userId) return false;
  if (first.state === null || again.state === null) return first.state === again.state;
  const order = (s: string) => (s === 'failed' || s === 'held' ? STATES.indexOf('enrolling') : STATES.indexOf(s));
  return order(again.state) >= order(first.state);
}
