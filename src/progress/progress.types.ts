import type { NoEtaReason, PaceRate } from '../rollout/campaigns/pace';
import { MIGRATION_STATES, type MigrationState } from '../rollout/state/migration-states';
import type { ConversationCoverage } from './conversation-coverage';

/** The migration states, in display order (progress_counters has one column each). */
export const STATES = MIGRATION_STATES;
export type MigrationStateName = MigrationState;

export type StateCounts = Record<MigrationStateName, number>;

export interface RecoveryCounts {
  prompted: number;
  pin: number;
  recoveryCode: number;
  cloudBackup: number;
  deviceKeychain: number;
}

/** Sum of a campaign's 16 counter shards. */
export interface CounterTotals {
  states: StateCounts;
  recovery: RecoveryCounts;
}

export interface RampStepView {
  ppm: number;
  holdMinutes: number;
  requiresApproval: boolean;
  pointOfNoReturn: boolean;
  minCapablePercent?: number;
}

/** The columns of one campaign that progress shows (read-only here). */
export interface CampaignRow {
  id: bigint;
  key: string;
  name: string;
  status: 'draft' | 'running' | 'paused' | 'halted' | 'completed';
  version: number;
  flagId: bigint;
  pacing: unknown;
  rampPlan: unknown;
  guardrails: unknown;
  guardrailState: unknown;
  currentStep: number;
  stepEnteredAt: Date | null;
  approvedStep: number;
  admittedPpm: number;
  plannedPpm: number;
  paceUsersPerSecond: number;
  populationSize: bigint;
  startedAt: Date | null;
  completedAt: Date | null;
  haltedAt: Date | null;
  haltReason: string | null;
  haltToLastCommitMs: number | null;
  lastEnabledAt: Date | null;
  updatedAt: Date;
}

export interface BacklogRow {
  queued: number;
  running: number;
  oldestQueuedAt: Date | null;
}

export interface RecentBatchesRow {
  claimed: number;
  enabled: number;
  failed: number;
  backendErrors: number;
}

/** Users in bucket bins below a ppm ceiling (bucket_histograms, 1,000 bins of 1,000 ppm). */
export interface AdmittedEstimate {
  users: number;
  capable: number;
}

export type SampleResolution = 'raw' | 'minute' | 'hour';

export interface ProgressSampleRow {
  campaignId: bigint;
  at: Date;
  resolution: SampleResolution;
  states: StateCounts;
  throughputPerSecond: number;
  paceUsersPerSecond: number;
  admittedPpm: number;
}

/** Everything one progress computation reads: constant cost at any population size. */
export interface ProgressInputs {
  campaign: CampaignRow;
  counters: CounterTotals;
  backlog: BacklogRow;
  recentBatches: RecentBatchesRow;
  admitted: AdmittedEstimate;
  /** E2EE-capable users per bucket histogram bin (1,000 bins of 1,000 ppm) */
  capableBins: number[];
  /** the ramp's batches of the last 5 minutes: users processed and the time some batch was running */
  rampBusy: { processed: number; busySeconds: number };
  /** the raw samples the rates are measured from (newest ≥ 1 min and ≥ 5 min old, oldest), oldest first */
  recentSamples: ProgressSampleRow[];
}

export interface Progress {
  campaign: {
    id: string;
    key: string;
    name: string;
    status: CampaignRow['status'];
    version: number;
    populationSize: number;
    startedAt: string | null;
    completedAt: string | null;
  };
  at: string;
  counts: StateCounts & { total: number };
  enabledShare: number;
  admission: { admittedPpm: number; plannedPpm: number; admittedUsers: number; admittedCapableUsers: number };
  throughput: { perSecond1m: number | null; perSecond5m: number | null };
  eta: {
    remainingUsers: number;
    /** capable users the remaining steps still send to the backend */
    toProcess: number;
    seconds: number | null;
    at: string | null;
    /** why there is no ETA: draft, paused, halted, or no_pace (no pace configured and no ramp batch measured yet) */
    reason: NoEtaReason | null;
    rate: PaceRate | null;
    approvalsAhead: number[];
    model: string;
  };
  conversations: ConversationCoverage;
  failures: { ratio: number; recentRatio5m: number | null; recentBackendErrors5m: number };
  backlog: { batches: number; queued: number; running: number; oldestQueuedAgeSeconds: number | null };
  recovery: RecoveryCounts & { adoption: number; byMethod: Record<string, number> };
  ramp: {
    steps: RampStepView[];
    currentStep: number;
    approvedStep: number;
    stepEnteredAt: string | null;
    holdRemainingSeconds: number | null;
    awaitingApproval: boolean;
  };
  guardrails: { rules: unknown; state: unknown };
  pace: { usersPerSecond: number; maxUsersPerSecond: number | null };
  halt: { haltedAt: string | null; reason: string | null; haltToLastCommitMs: number | null };
}
