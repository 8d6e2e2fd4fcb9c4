import { SingleFlight } from './single-flight';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('joins concurrent calls for one key and runs a fresh call after it settles', async () => {
    const sf = new SingleFlight<number>();
    const d = deferred<number>();
    const fn = jest.fn(() => d.promise);
    const a = sf.run('c1', fn);
    const b = sf.run('c1', fn);
    expect(fn).toHaveBeenCalledTimes(1);
    d.resolve(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    expect(sf.size).toBe(0);
    await sf.run('c1', async () => 8).then((v) => expect(v).toBe(8));
  });

  it('keeps keys apart and forgets a failed call', async () => {
    const sf = new SingleFlight<number>();
    const fail = sf.run('a', () => Promise.reject(new Error('boom')));
    const other = sf.run('b', async () => 2);
    await expect(fail).rejects.toThrow('boom');
    expect(await other).toBe(2);
    expect(await sf.run('a', async () => 3)).toBe(3);
  });
});
