/**
 * Joins concurrent calls for the same key onto one in-flight promise. Many watchers of one
 * campaign then cost one database read at a time, not one each; a call made after the
 * read settles starts a new one, so nothing older than the in-flight read is ever served.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const current = this.inFlight.get(key);
    if (current) return current;
    const p = fn().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  get size(): number {
    return this.inFlight.size;
  }
}
