/**
 * Admission pace by additive increase, multiplicative decrease (AIMD). Pure. The result is
 * written to campaigns.pace_users_per_second, which the migrator's Pacer (Redis timeline,
 * src/rollout/migration/pacer.ts) already enforces across every worker.
 */
export interface AimdParams {
  /** the campaign's maximum (pacing.maxUsersPerSecond, or the configured ceiling) */
  maxUsersPerSecond: number;
  minUsersPerSecond: number;
  /** additive step as a share of the maximum, per tick */
  increaseRatio: number;
  /** multiplicative factor on congestion, 0..1 */
  decreaseFactor: number;
  /** the oldest queued batch may wait this long before the pace backs off */
  targetQueueAgeSeconds: number;
}

export interface PaceSignals {
  throttled: boolean;
  oldestQueuedAgeSeconds: number | null;
  /** how long the backlog waits because of the pace itself (backlog users / pace): not congestion */
  paceWaitSeconds: number;
}

export type PaceDirection = 'increase' | 'decrease' | 'hold';

/**
 * Congestion (a throttle trip, or batches queueing longer than the target beyond what the
 * pace itself makes them wait) backs off; a backlog that drains well speeds up.
 */
export function paceDirection(s: PaceSignals, p: Pick<AimdParams, 'targetQueueAgeSeconds'>): PaceDirection {
  if (s.throttled) return 'decrease';
  const congestion = Math.max(0, (s.oldestQueuedAgeSeconds ?? 0) - Math.max(0, s.paceWaitSeconds));
  if (congestion > p.targetQueueAgeSeconds) return 'decrease';
  if (congestion <= p.targetQueueAgeSeconds / 2) return 'increase';
  return 'hold';
}

/** The next pace in users per second, always within [min, max]. A pace of 0 (unset) starts at max. */
export function nextPace(current: number, direction: PaceDirection, p: AimdParams): number {
  const max = Math.max(1, Math.floor(p.maxUsersPerSecond));
  const min = Math.min(max, Math.max(1, Math.floor(p.minUsersPerSecond)));
  const from = current > 0 ? Math.min(current, max) : max;
  switch (direction) {
    case 'increase':
      return Math.min(max, Math.max(min, from + Math.max(1, Math.floor(max * p.increaseRatio))));
    case 'decrease':
      return Math.max(min, Math.floor(from * p.decreaseFactor));
    case 'hold':
      return Math.max(min, from);
  }
}
