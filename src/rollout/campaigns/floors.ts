/**
 * Capability floors: a ramp step may require that at least X% of its users (buckets below its
 * ppm) can do E2EE on every device before it starts. Where a floor stands, and when it will
 * be met at the rate users have been becoming capable. Pure.
 */
import { capablePercent, type CapabilityFigures, type RampStep } from './ramp-plan';

export const FLOOR_FORECAST_MODEL =
  'users become capable at the rate measured over the last 24 hours across the campaign population, spread evenly over the buckets (a step gets its share of that rate)';

/** How fast the campaign's population has been becoming capable. */
export interface CapabilityTrend {
  /** net users per second that became capable (negative: capability was lost), null without two readings far enough apart */
  perSecond: number | null;
  populationUsers: number;
  windowSeconds: number | null;
}

export interface FloorStatus {
  step: number;
  minCapablePercent: number;
  users: number;
  capable: number;
  capablePercent: number | null;
  met: boolean;
  /** capable users the step still lacks */
  usersNeeded: number;
  forecast: { capablePerSecond: number | null; etaSeconds: number | null; etaAt: string | null; model: string };
}

/** Below this span two readings of the capable count say nothing about a rate. */
export const MIN_TREND_SECONDS = 60;

export function trendOf(now: { at: Date; capable: number; users: number }, then: { at: Date; capable: number } | null): CapabilityTrend {
  const span = then ? (now.at.getTime() - then.at.getTime()) / 1000 : 0;
  if (!then || span < MIN_TREND_SECONDS) return { perSecond: null, populationUsers: now.users, windowSeconds: null };
  return { perSecond: (now.capable - then.capable) / span, populationUsers: now.users, windowSeconds: Math.round(span) };
}

/** The floor of step `index` and its forecast; null when the step has no floor. */
export function floorStatus(index: number, step: RampStep, c: CapabilityFigures, trend: CapabilityTrend, now: Date): FloorStatus | null {
  const floor = step.minCapablePercent;
  if (floor === undefined || floor <= 0) return null;
  const share = capablePercent(c);
  const usersNeeded = Math.max(0, Math.ceil((floor / 100) * c.users) - c.capable);
  const met = share !== null && share >= floor;
  const stepRate = trend.perSecond !== null && trend.populationUsers > 0 ? (trend.perSecond * c.users) / trend.populationUsers : null;
  const etaSeconds = met ? 0 : stepRate !== null && stepRate > 0 ? Math.ceil(usersNeeded / stepRate) : null;
  return {
    step: index,
    minCapablePercent: floor,
    users: c.users,
    capable: c.capable,
    capablePercent: share,
    met,
    usersNeeded,
    forecast: {
      capablePerSecond: stepRate,
      etaSeconds,
      etaAt: etaSeconds === null ? null : new Date(now.getTime() + etaSeconds * 1000).toISOString(),
      model: FLOOR_FORECAST_MODEL,
    },
  };
}
