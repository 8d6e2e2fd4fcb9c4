/**
 * The port to the E2EE backend that does the per-user work (key setup, mailbox switch).
 * One call per batch; every user carries its own idempotency key (`<campaignId>:<userId>`)
 * so that a retried call never sets anyone up twice.
 */
export interface BackendUserRequest {
  userId: string;
  idempotencyKey: string;
}

export type BackendOutcome =
  | { userId: string; status: 'enabled' }
  | { userId: string; status: 'transient'; reason: string }
  | { userId: string; status: 'permanent'; reason: string };

export interface BackendBatchRequest {
  campaignId: string;
  /** identifies the call (batch id and attempt); the per-user keys carry idempotency */
  batchKey: string;
  users: readonly BackendUserRequest[];
}

export abstract class MigrationBackend {
  /**
   * Sets the users up. Resolves with one outcome per user. A failure of the whole call
   * (timeout, connection refused, 5xx) rejects with a `BackendUnavailableError`; the
   * migrator then treats every user of the batch as a transient failure.
   */
  abstract enableBatch(req: BackendBatchRequest): Promise<BackendOutcome[]>;
}

export class BackendUnavailableError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'unavailable' | 'protocol',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

export function idempotencyKeyFor(campaignId: bigint | string, userId: bigint | string): string {
  return `${String(campaignId)}:${String(userId)}`;
}
