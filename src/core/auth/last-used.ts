/** How often one process writes a key's last use, at most. */
export const LAST_USED_INTERVAL_MS = 60_000;
const TRACKED_MAX = 10_000;

/**
 * Records when each API key was last used without putting a write on any request's path:
 * at most one write per key and interval in this process, started and not awaited; a failed
 * write is logged and the next use after the interval tries again.
 */
export class LastUsedRecorder {
  private readonly written = new Map<bigint, number>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly write: (id: bigint, at: Date) => Promise<unknown>,
    private readonly warn: (message: string) => void,
    private readonly intervalMs = LAST_USED_INTERVAL_MS,
  ) {}

  touch(id: bigint, nowMs: number): void {
    const last = this.written.get(id);
    if (last !== undefined && nowMs - last < this.intervalMs) return;
    if (this.written.size >= TRACKED_MAX) this.written.clear();
    this.written.set(id, nowMs);
    const done: Promise<void> = this.write(id, new Date(nowMs)).then(
      () => undefined,
      (err: unknown) => {
        this.written.delete(id);
        this.warn(`could not record the last use of API key ${id}: ${(err as Error)?.message ?? String(err)}`);
      },
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** Resolves when every write started so far has finished (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
