import { GroupCommit } from './group-commit';

interface Item {
  user: string;
  n: number;
}

function recorder(fail: (items: readonly Item[]) => boolean = () => false) {
  const groups: Item[][] = [];
  const apply = async (_key: string, items: readonly Item[]) => {
    await Promise.resolve();
    if (fail(items)) throw new Error(`group of ${items.length} failed`);
    groups.push([...items]);
    return items.map((i) => (i.n < 0 ? new Error(`bad ${i.n}`) : i.n * 10));
  };
  return { groups, apply };
}

describe('GroupCommit', () => {
  it('applies requests that arrive together as one group and answers each its own', async () => {
    const r = recorder();
    const gc = new GroupCommit<Item, number>({ windowMs: 5, maxSize: 100, apply: r.apply });
    const answers = await Promise.all([1, 2, 3].map((n) => gc.submit('c', { user: `u${n}`, n })));
    expect(answers).toEqual([10, 20, 30]);
    expect(r.groups.map((g) => g.map((i) => i.n))).toEqual([[1, 2, 3]]);
  });

  it('fails only the request whose answer is an error', async () => {
    const r = recorder();
    const gc = new GroupCommit<Item, number>({ windowMs: 1, maxSize: 100, apply: r.apply });
    const answers = await Promise.allSettled([1, -2, 3].map((n) => gc.submit('c', { user: `u${n}`, n })));
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('splits a failing group until the request that makes it fail fails alone', async () => {
    const r = recorder((items) => items.some((i) => i.n === 4));
    const gc = new GroupCommit<Item, number>({ windowMs: 1, maxSize: 100, apply: r.apply });
    const answers = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((n) => gc.submit('c', { user: `u${n}`, n })));
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(r.groups.flat().map((i) => i.n).sort()).toEqual([1, 2, 3, 5, 6]);
  });

  it('keeps groups of different keys apart and caps a group at maxSize', async () => {
    const r = recorder();
    const gc = new GroupCommit<Item, number>({ windowMs: 1, maxSize: 2, apply: (key, items) => r.apply(key, items.map((i) => ({ ...i, user: `${key}/${i.user}` }))) });
    await Promise.all([gc.submit('a', { user: 'x', n: 1 }), gc.submit('b', { user: 'x', n: 2 }), gc.submit('a', { user: 'y', n: 3 }), gc.submit('a', { user: 'z', n: 4 })]);
    expect(r.groups.map((g) => g.map((i) => i.user)).sort()).toEqual([['a/x', 'a/y'], ['a/z'], ['b/x']]);
  });

  it('puts two requests of the same user in successive groups, in arrival order', async () => {
    const r = recorder();
    const gc = new GroupCommit<Item, number>({ windowMs: 1, maxSize: 100, conflict: (i) => i.user, apply: r.apply });
    await Promise.all([gc.submit('c', { user: 'u', n: 1 }), gc.submit('c', { user: 'v', n: 2 }), gc.submit('c', { user: 'u', n: 3 })]);
    expect(r.groups.map((g) => g.map((i) => i.n))).toEqual([[1, 2], [3]]);
  });
});
