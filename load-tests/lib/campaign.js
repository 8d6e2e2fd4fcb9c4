// Reading a campaign's progress document (GET /api/v1/campaigns/:id/progress).
/** Migration states in ratchet order (failed/held are side states). */
export const STATES = ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held'];

/**
 * Counts per state from a progress body, 0 for a state it does not mention.
 * @param {any} body
 * @returns {Record<string, number>}
 */
export function stateCounts(body) {
  const src = (body && body.counts) || {};
  /** @type {Record<string, number>} */
  const out = {};
  for (const s of STATES) out[s] = Number(src[s] || 0);
  out.total = Number(src.total || 0);
  return out;
}

/**
 * Whether a progress body is well formed: the campaign with its status, and every state count.
 * @param {any} body
 * @returns {boolean}
 */
export function isProgress(body) {
  if (!body || typeof body !== 'object' || !body.campaign || typeof body.campaign.status !== 'string') return false;
  const counts = body.counts;
  return !!counts && STATES.concat(['total']).every((s) => typeof counts[s] === 'number');
}

/**
 * Nothing left to do: the campaign says completed, or every materialised user is in a state
 * that no longer moves by itself and no batch is queued or running.
 * @param {any} body
 * @returns {boolean}
 */
export function isSettled(body) {
  if (!body || !body.campaign) return false;
  if (body.campaign.status === 'completed') return true;
  const c = stateCounts(body);
  const batches = body.backlog ? Number(body.backlog.batches || 0) : 0;
  return c.total > 0 && c.legacy + c.eligible + c.enrolling === 0 && batches === 0;
}
