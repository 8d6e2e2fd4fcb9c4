import { z } from 'zod';
import { BackendUnavailableError, MigrationBackend, type BackendBatchRequest, type BackendOutcome } from './backend.port';

export interface HttpBackendOptions {
  url: string;
  timeoutMs: number;
}

const responseSchema = z.object({
  results: z.array(
    z.discriminatedUnion('status', [
      z.object({ userId: z.string(), status: z.literal('enabled') }),
      z.object({ userId: z.string(), status: z.literal('transient'), reason: z.string().max(500) }),
      z.object({ userId: z.string(), status: z.literal('permanent'), reason: z.string().max(500) }),
    ]),
  ),
});

/**
 * Client for a real E2EE backend: `POST <url>/v1/enable-batch` with
 * `{ campaignId, users: [{ userId, idempotencyKey }] }` and an `Idempotency-Key` header for
 * the call itself (the batch key); the answer is one result per user. A user the backend
 * does not mention counts as a transient failure (it is retried, safely: idempotent keys).
 */
export class HttpBackend extends MigrationBackend {
  constructor(private readonly opts: HttpBackendOptions) {
    super();
  }

  async enableBatch(req: BackendBatchRequest): Promise<BackendOutcome[]> {
    const res = await this.post(req);
    if (res.status >= 500 || res.status === 429) {
      throw new BackendUnavailableError(`backend answered ${res.status}`, 'unavailable');
    }
    const body: unknown = await res.json().catch(() => undefined);
    const parsed = responseSchema.safeParse(body);
    if (res.status !== 200 || !parsed.success) {
      throw new BackendUnavailableError(`backend answered ${res.status} with an unexpected body`, 'protocol');
    }
    const byUser = new Map(parsed.data.results.map((r) => [r.userId, r]));
    return req.users.map(
      (u): BackendOutcome => byUser.get(u.userId) ?? { userId: u.userId, status: 'transient', reason: 'backend: no result for this user' },
    );
  }

  private async post(req: BackendBatchRequest): Promise<Response> {
    try {
      return await fetch(new URL('/v1/enable-batch', this.opts.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': req.batchKey },
        body: JSON.stringify({ campaignId: req.campaignId, users: req.users }),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      const timeout = (err as Error)?.name === 'TimeoutError' || (err as Error)?.name === 'AbortError';
      throw new BackendUnavailableError(timeout ? `backend timed out after ${this.opts.timeoutMs} ms` : 'backend unreachable', timeout ? 'timeout' : 'unavailable', { cause: err });
    }
  }
}
