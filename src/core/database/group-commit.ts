/**
 * Group commit: requests that arrive within `windowMs` of each other (or until `maxSize` of
 * them) are applied together by one `apply` call, usually one transaction of set-based
 * statements. Each caller gets its own answer (a value or an error) only after `apply`
 * returned, i.e. after the group's transaction committed.
 *
 * Requests with the same `key` (a campaign) form groups; at most `maxInFlight` groups of one
 * key are applied at once, so under load the next group keeps collecting while one commits
 * and groups grow with the load. Two requests with the same `conflict` (a user) never share a
 * group: the later one waits for the next, so that a group applies each user's requests in
 * arrival order.
 *
 * When `apply` throws for a whole group (a database fault), nothing of it was committed; the
 * group is split in halves and each half applied again, down to single requests, so that one
 * request that makes its group fail fails alone and the others are answered.
 */
export interface GroupCommitOptions<I, O> {
  windowMs: number;
  maxSize: number;
  maxInFlight?: number;
  conflict?: (item: I) => string;
  apply: (key: string, items: readonly I[]) => Promise<ReadonlyArray<O | Error>>;
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

interface KeyState<I, O> {
  pending: Array<Pending<I, O>>;
  inFlight: number;
  timer: NodeJS.Timeout | null;
}

export class GroupCommit<I, O> {
  private readonly keys = new Map<string, KeyState<I, O>>();
  private readonly maxInFlight: number;

  constructor(private readonly opts: GroupCommitOptions<I, O>) {
    this.maxInFlight = opts.maxInFlight ?? 2;
  }

  submit(key: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const s = this.state(key);
      s.pending.push({ item, resolve, reject });
      if (s.pending.length >= this.opts.maxSize) this.flush(key, s);
      else if (!s.timer && s.inFlight < this.maxInFlight) s.timer = setTimeout(() => this.flush(key, s), this.opts.windowMs);
    });
  }

  private state(key: string): KeyState<I, O> {
    let s = this.keys.get(key);
    if (!s) {
      s = { pending: [], inFlight: 0, timer: null };
      this.keys.set(key, s);
    }
    return s;
  }

  private flush(key: string, s: KeyState<I, O>): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    if (s.inFlight >= this.maxInFlight || s.pending.length === 0) return;
    const group = this.take(s);
    s.inFlight++;
    void this.applyGroup(key, group).finally(() => {
      s.inFlight--;
      // the requests that arrived meanwhile have waited long enough: no new window for them
      if (s.pending.length > 0) this.flush(key, s);
      else if (s.inFlight === 0) this.keys.delete(key);
    });
  }

  private take(s: KeyState<I, O>): Array<Pending<I, O>> {
    const conflict = this.opts.conflict;
    if (!conflict) return s.pending.splice(0, this.opts.maxSize);
    const seen = new Set<string>();
    const group: Array<Pending<I, O>> = [];
    const later: Array<Pending<I, O>> = [];
    for (const p of s.pending) {
      const c = conflict(p.item);
      if (group.length < this.opts.maxSize && !seen.has(c)) {
        seen.add(c);
        group.push(p);
      } else later.push(p);
    }
    s.pending = later;
    return group;
  }

  private async applyGroup(key: string, group: ReadonlyArray<Pending<I, O>>): Promise<void> {
    let results: ReadonlyArray<O | Error>;
    try {
      results = await this.opts.apply(key, group.map((p) => p.item));
    } catch (err) {
      if (group.length === 1) return group[0].reject(err);
      const half = Math.ceil(group.length / 2);
      await this.applyGroup(key, group.slice(0, half));
      await this.applyGroup(key, group.slice(half));
      return;
    }
    group.forEach((p, i) => {
      const r = results[i];
      if (r instanceof Error) p.reject(r);
      else p.resolve(r);
    });
  }
}
