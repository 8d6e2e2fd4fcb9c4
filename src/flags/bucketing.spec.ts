import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bucketOf, murmur3, PPM, SaltedBucketer } from './bucketing';
import { referenceBucket, referenceMurmur3, referenceVectors, type BucketingVector } from './bucketing-reference';

const file = JSON.parse(readFileSync(join(__dirname, '../../docs/bucketing-vectors.json'), 'utf8')) as { hashVersion: number; vectors: BucketingVector[] };

describe('bucketing', () => {
  it('matches murmur3_x86_32 published values', () => {
    const enc = (s: string) => Buffer.from(s, 'utf8');
    for (const [s, h] of [['', 0], ['hello', 0x248bfa47], ['The quick brown fox jumps over the lazy dog', 0x2e4ff723]] as const) {
      expect(murmur3(enc(s), enc(s).length)).toBe(h);
      expect(referenceMurmur3(enc(s))).toBe(h);
    }
  });

  it('docs/bucketing-vectors.json is what the reference implementation produces', () => {
    expect(file.hashVersion).toBe(1);
    expect(file.vectors.length).toBeGreaterThanOrEqual(1000);
    expect(file.vectors).toEqual(referenceVectors());
  });

  it('the optimized implementation agrees with every committed vector', () => {
    const mismatches = file.vectors.filter((v) => bucketOf(v.salt, v.targetingKey) !== v.bucket);
    expect(mismatches).toEqual([]);
  });

  it('covers empty-ish, unicode and long keys', () => {
    const keys = file.vectors.map((v) => v.targetingKey);
    expect(keys).toContain('');
    expect(keys.some((k) => [...k].some((ch) => ch.codePointAt(0)! > 0x7f))).toBe(true);
    expect(keys.some((k) => k.length >= 600)).toBe(true);
  });

  it('agrees with the reference on arbitrary strings, and is stable on one bucketer across calls', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 300 }), (salt, key) => {
        const b = new SaltedBucketer(salt);
        const first = b.bucket(key);
        expect(first).toBe(referenceBucket(salt, key));
        expect(b.bucket('x'.repeat(500))).toBe(referenceBucket(salt, 'x'.repeat(500)));
        expect(b.bucket(key)).toBe(first);
      }),
      { numRuns: 2000 },
    );
  });

  it('stays within 0..999999', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (s, k) => {
      const b = bucketOf(s, k);
      return Number.isInteger(b) && b >= 0 && b < PPM;
    }));
  });

  it('raising the rollout never removes a user; lowering never adds one', () => {
    fc.assert(
      fc.property(fc.string(), fc.array(fc.string(), { maxLength: 50 }), fc.nat(PPM), fc.nat(PPM), (salt, keys, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const admitted = (ppm: number) => new Set(keys.filter((k) => bucketOf(salt, k) < ppm));
        const atLow = admitted(low);
        const atHigh = admitted(high);
        for (const k of atLow) expect(atHigh.has(k)).toBe(true);
        expect(atLow.size).toBeLessThanOrEqual(atHigh.size);
      }),
      { numRuns: 500 },
    );
  });

  it('spreads users evenly across buckets (chi-square over 10 deciles of 100k ids)', () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[Math.floor(bucketOf('dist', String(1_000_000_000 + i)) / 100_000)]++;
    const chi = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi).toBeLessThan(27.88); // p = 0.001 with 9 degrees of freedom
  });
});
