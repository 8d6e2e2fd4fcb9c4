import { BatchedLookup, LookupOverloadedError } from './batched-lookup';

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('BatchedLookup', () => {
  it('answers each caller in order from one query per group while the slot is busy', async () => {
    const calls: Array<{ group: bigint; ids: bigint[] }> = [];
    const gate = deferred<void>();
    const lookup = new BatchedLookup(async (group, ids) => {
      calls.push({ group, ids: [...ids] });
      await gate.promise;
      return new Set(ids.filter((id) => id % 2n === 0n));
    }, 1);
    const first = lookup.lookup(1n, [2n]);
    const queued = [lookup.lookup(1n, [3n, 4n]), lookup.lookup(1n, [6n]), lookup.lookup(2n, [8n])];
    gate.resolve();
    expect(await first).toEqual([true]);
    expect(await Promise.all(queued)).toEqual([[false, true], [true], [true]]);
    expect(calls).toEqual([
      { group: 1n, ids: [2n] },
      { group: 1n, ids: [3n, 4n, 6n] },
      { group: 2n, ids: [8n] },
    ]);
  });

  it('never runs more queries at once than its concurrency', async () => {
    let running = 0;
    let peak = 0;
    const lookup = new BatchedLookup(async (_g, ids) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
      return new Set(ids);
    }, 2, 1);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => lookup.lookup(BigInt(i % 3), [BigInt(i)])));
    expect(answers.every((a) => a[0])).toBe(true);
    expect(peak).toBe(2);
  });

  it('refuses lookups past its bound and rejects the callers of a failed query', async () => {
    const gate = deferred<void>();
    const lookup = new BatchedLookup(async () => {
      await gate.promise;
      throw new Error('database down');
    }, 1, 10, 3);
    const first = lookup.lookup(1n, [1n, 2n]);
    const second = lookup.lookup(1n, [3n]);
    await expect(lookup.lookup(1n, [4n, 5n, 6n, 7n])).rejects.toBeInstanceOf(LookupOverloadedError);
    gate.resolve();
    await expect(first).rejects.toThrow('database down');
    await expect(second).rejects.toThrow('database down');
    expect(lookup.waiting).toBe(0);
  });
});
