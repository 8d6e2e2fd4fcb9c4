import { cutRanges } from './range-cuts';

describe('cutRanges', () => {
  it('no legacy user left: no range', () => {
    expect(cutRanges(100, 5000, [], false)).toEqual([]);
    expect(cutRanges(5000, 5000, [5000], false)).toEqual([]);
  });

  it('everything read: contiguous ranges from `from`, the last one up to the ceiling', () => {
    expect(cutRanges(100, 5000, [150], false)).toEqual([{ from: 100, to: 5000 }]);
    expect(cutRanges(100, 5000, [150, 900, 2000], false)).toEqual([
      { from: 100, to: 900 },
      { from: 900, to: 2000 },
      { from: 2000, to: 5000 },
    ]);
  });

  it('more to read: the last start only bounds the last range', () => {
    expect(cutRanges(0, 1_000_000, [3, 400, 800], true)).toEqual([
      { from: 0, to: 400 },
      { from: 400, to: 800 },
    ]);
  });

  it('never splits a bucket: equal starts collapse, and a crowded bucket still makes progress', () => {
    expect(cutRanges(0, 1000, [10, 10, 10, 20], false)).toEqual([
      { from: 0, to: 20 },
      { from: 20, to: 1000 },
    ]);
    expect(cutRanges(0, 1000, [10, 10, 10], true)).toEqual([{ from: 0, to: 11 }]);
    expect(cutRanges(0, 11, [10, 10], true)).toEqual([{ from: 0, to: 11 }]);
  });

  it('ranges are contiguous, inside [from, admitted) and non-empty (property over random starts)', () => {
    for (let n = 0; n < 500; n++) {
      const from = Math.floor(Math.random() * 1000);
      const admitted = from + 1 + Math.floor(Math.random() * 10_000);
      const starts = Array.from({ length: 1 + Math.floor(Math.random() * 8) }, () => from + Math.floor(Math.random() * (admitted - from))).sort((a, b) => a - b);
      const more = Math.random() < 0.5;
      const r = cutRanges(from, admitted, starts, more);
      expect(r.length).toBeGreaterThan(0);
      expect(r[0].from).toBe(from);
      for (let i = 0; i < r.length; i++) {
        expect(r[i].to).toBeGreaterThan(r[i].from);
        expect(r[i].to).toBeLessThanOrEqual(admitted);
        if (i > 0) expect(r[i].from).toBe(r[i - 1].to);
      }
      if (!more) expect(r[r.length - 1].to).toBe(admitted);
      // the first legacy user is always inside the first range
      expect(starts[0]).toBeLessThan(r[0].to);
    }
  });
});
