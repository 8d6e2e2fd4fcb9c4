export const CAMPAIGN_STATUSES = ['draft', 'running', 'paused', 'halted', 'completed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export type CampaignAction = 'start' | 'pause' | 'resume' | 'halt' | 'complete';

export interface Pacing {
  batchSize: number;
  maxUsersPerSecond: number;
  concurrency: number;
  maxAttempts: number;
  backlogBatches: number;
}

/** Attribute filter selecting a campaign's population; an empty filter is everyone. */
export interface PopulationFilter {
  countries?: string[];
  platforms?: string[];
  /** JSON containment on users.attributes */
  attributes?: Record<string, string | number | boolean>;
}

export interface Campaign {
  id: bigint;
  key: string;
  name: string;
  description: string;
  flagId: bigint;
  status: CampaignStatus;
  populationFilter: PopulationFilter;
  pacing: Pacing;
  rampPlan: unknown;
  guardrails: unknown;
  currentStep: number;
  admittedPpm: number;
  plannedPpm: number;
  paceUsersPerSecond: number;
  guardrailState: unknown;
  materializeCursor: bigint | null;
  materializedAt: Date | null;
  populationSize: bigint;
  startedAt: Date | null;
  completedAt: Date | null;
  haltedAt: Date | null;
  haltReason: string | null;
  haltToLastCommitMs: number | null;
  lastEnabledAt: Date | null;
  /** the ramp controller completes the campaign when its last step is done */
  autoComplete: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The flag fields the migration engine needs (read from the flags table). */
export interface AdmissionFlag {
  id: bigint;
  key: string;
  salt: string;
  rolloutPpm: number;
  killed: boolean;
  version: number;
}

export interface NewCampaign {
  key: string;
  name: string;
  description: string;
  flagId: bigint;
  populationFilter: PopulationFilter;
  pacing: Pacing;
  autoComplete: boolean;
}

export interface CampaignPatch {
  name?: string;
  description?: string;
  populationFilter?: PopulationFilter;
  pacing?: Pacing;
  autoComplete?: boolean;
}

export interface CampaignListQuery {
  status?: CampaignStatus;
  after?: bigint;
  limit: number;
}
