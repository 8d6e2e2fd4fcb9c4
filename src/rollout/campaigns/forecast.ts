/**
 * Forecast of a ramp step from the bucket histogram (1,000 bins of 1,000 ppm per campaign,
 * kept up to date by materialisation): no scan of user_migrations. Pure.
 */
import type { CampaignStatus } from './campaigns.types';
import type { PaceRate } from './pace';

export const BIN_PPM = 1000;

export interface HistogramBin {
  bin: number;
  total: number;
  capable: number;
}

export interface RangeEstimate {
  users: number;
  eligible: number;
  ineligible: number;
  /** both ends fall on bin edges: the counts are exact, otherwise partial bins are prorated */
  exact: boolean;
}

/** Users whose bucket is in [fromPpm, toPpm). */
export function usersInRange(bins: readonly HistogramBin[], fromPpm: number, toPpm: number): RangeEstimate {
  const exact = fromPpm % BIN_PPM === 0 && toPpm % BIN_PPM === 0;
  if (toPpm <= fromPpm) return { users: 0, eligible: 0, ineligible: 0, exact: true };
  let users = 0;
  let capable = 0;
  for (const b of bins) {
    const lo = b.bin * BIN_PPM;
    const overlap = Math.max(0, Math.min(toPpm, lo + BIN_PPM) - Math.max(fromPpm, lo));
    users += (b.total * overlap) / BIN_PPM;
    capable += (b.capable * overlap) / BIN_PPM;
  }
  const u = Math.round(users);
  const e = Math.min(u, Math.round(capable));
  return { users: u, eligible: e, ineligible: u - e, exact };
}

export function binsOf(fromPpm: number, toPpm: number): { first: number; last: number } {
  return { first: Math.floor(fromPpm / BIN_PPM), last: Math.max(Math.floor(fromPpm / BIN_PPM), Math.ceil(toPpm / BIN_PPM) - 1) };
}

export interface ForecastInput {
  bins: readonly HistogramBin[];
  fromPpm: number;
  toPpm: number;
  status: CampaignStatus;
  /** the ramp's rate (rampRate): null when no pace is configured and no ramp batch was measured */
  rate: PaceRate | null;
  now: Date;
}

export interface Forecast {
  fromPpm: number;
  toPpm: number;
  newlyAdmitted: RangeEstimate;
  rate: { usersPerSecond: number | null; source: PaceRate['source'] | null };
  etaSeconds: number | null;
  etaAt: string | null;
  /** why there is no ETA: the campaign is not running (draft, paused, halted) or has no pace yet */
  etaReason: 'draft' | 'paused' | 'halted' | 'completed' | 'no_pace' | null;
}

/**
 * Step X newly admits the users in [current ceiling, X); the capable ones (eligible) are the
 * ones the backend will be called for. The ETA divides them by the ramp's rate; a campaign
 * that is not running has none (nothing moves), nor one without any known pace.
 */
export function forecastStep(f: ForecastInput): Forecast {
  const newlyAdmitted = usersInRange(f.bins, f.fromPpm, f.toPpm);
  const still = f.status === 'running' ? null : f.status;
  const reason = still ?? (newlyAdmitted.eligible > 0 && !f.rate ? 'no_pace' : null);
  const etaSeconds = reason !== null ? null : newlyAdmitted.eligible === 0 ? 0 : Math.ceil(newlyAdmitted.eligible / f.rate!.usersPerSecond);
  return {
    fromPpm: f.fromPpm,
    toPpm: f.toPpm,
    newlyAdmitted,
    rate: { usersPerSecond: f.rate?.usersPerSecond ?? null, source: f.rate?.source ?? null },
    etaSeconds,
    etaAt: etaSeconds === null ? null : new Date(f.now.getTime() + etaSeconds * 1000).toISOString(),
    etaReason: reason,
  };
}
