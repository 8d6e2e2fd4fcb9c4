export const PLATFORMS = ['ios', 'android', 'web', 'desktop'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const IMPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export const IMPORT_MEDIA_TYPES: Record<ImportFormat, string> = {
  ndjson: 'application/x-ndjson',
  csv: 'text/csv',
};

/** A user's eligibility attributes; attributes not used by eligibility live in `attributes`. */
export interface UserAttributes {
  country: string;
  platform: Platform;
  appVersion: string;
  e2eeCapable: boolean;
  attributes: Record<string, unknown>;
}

export interface UserRecord extends UserAttributes {
  id: bigint;
  createdAt: Date;
  updatedAt: Date;
}

export type UserView = Omit<UserRecord, 'id' | 'createdAt' | 'updatedAt'> & { id: string; createdAt: string; updatedAt: string };

/** A row of an import file that passed validation. */
export interface ImportRow extends UserAttributes {
  id: bigint;
}

export interface RejectedLine {
  /** 1-based line number in the file (a CSV header is line 1) */
  line: number;
  reason: string;
}

export interface ImportSummary {
  importId: string;
  format: ImportFormat;
  bytes: number;
  /** data lines read (blank lines and a CSV header excluded) */
  read: number;
  valid: number;
  rejected: number;
  /** valid lines whose id appears again later in the file (the last one wins) */
  duplicates: number;
  inserted: number;
  updated: number;
  /** valid rows identical to what was stored already */
  unchanged: number;
  /** users whose capability changed while in a campaign: queued for `users-reassess` */
  reassessed: number;
  /** the first rejected lines, in file order */
  rejectedLines: RejectedLine[];
  durationMs: number;
  /** where the time went: reading, validating and COPYing the body; the upsert into users */
  phasesMs: { receive: number; upsert: number };
}

export interface SeedSummary {
  added: number;
  /** null when count was 0 */
  fromId: string | null;
  toId: string | null;
  incapable: number;
  seed: number;
}

/** Attributes whose change can make a user (in)eligible: a change enqueues `users-reassess`. */
export const ELIGIBILITY_FIELDS = ['country', 'platform', 'appVersion', 'e2eeCapable'] as const;

