/**
 * Coalesces membership lookups into few bulk queries with a bound on how many run at once:
 * while PostgreSQL stands in for the ratchet, a burst of evaluations costs a handful of
 * queries, never one each, and never more than `concurrency` connections. Lookups past
 * `maxPending` are refused (the caller answers an error, never a guessed "off").
 */
export type BulkMembership = (group: bigint, ids: readonly bigint[]) => Promise<ReadonlySet<bigint>>;

interface Pending {
  ids: readonly bigint[];
  resolve: (found: boolean[]) => void;
  reject: (err: unknown) => void;
}

export class LookupOverloadedError extends Error {}

export class BatchedLookup {
  private readonly pending = new Map<bigint, Pending[]>();
  private pendingIds = 0;
  private running = 0;

  constructor(
    private readonly query: BulkMembership,
    private readonly concurrency: number,
    private readonly maxBatch = 1000,
    private readonly maxPending = 50_000,
  ) {}

  /** Whether each id is a member of `group`, in order. */
  lookup(group: bigint, ids: readonly bigint[]): Promise<boolean[]> {
    if (this.pendingIds + ids.length > this.maxPending) return Promise.reject(new LookupOverloadedError(`more than ${this.maxPending} lookups waiting for PostgreSQL`));
    return new Promise((resolve, reject) => {
      const list = this.pending.get(group) ?? [];
      list.push({ ids, resolve, reject });
      this.pending.set(group, list);
      this.pendingIds += ids.length;
      this.pump();
    });
  }

  get waiting(): number {
    return this.pendingIds;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.pending.size > 0) {
      const [group, list] = this.pending.entries().next().value as [bigint, Pending[]];
      const taken: Pending[] = [];
      let n = 0;
      while (list.length > 0 && (taken.length === 0 || n + list[0].ids.length <= this.maxBatch)) {
        const p = list.shift()!;
        taken.push(p);
        n += p.ids.length;
      }
      if (list.length === 0) this.pending.delete(group);
      this.pendingIds -= n;
      this.running++;
      void this.run(group, taken).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(group: bigint, taken: Pending[]): Promise<void> {
    try {
      const found = await this.query(group, [...new Set(taken.flatMap((p) => p.ids))]);
      for (const p of taken) p.resolve(p.ids.map((id) => found.has(id)));
    } catch (err) {
      for (const p of taken) p.reject(err);
    }
  }
}
