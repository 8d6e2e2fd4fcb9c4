/**
 * A deliberately plain murmur3_x86_32 (seed 0), written independently of bucketing.ts: UTF-8
 * through TextEncoder, 32-bit products from 16-bit halves, one byte at a time. It exists to
 * generate and check docs/bucketing-vectors.json, never for evaluation.
 */
function mul32(a: number, b: number): number {
  return ((a & 0xffff) * b + ((((a >>> 16) * b) & 0xffff) << 16)) >>> 0;
}

function rotl32(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

export function referenceMurmur3(bytes: Uint8Array): number {
  let h = 0;
  const blocks = Math.floor(bytes.length / 4);
  for (let b = 0; b < blocks; b++) {
    let k = 0;
    for (let j = 3; j >= 0; j--) k = ((k << 8) | bytes[b * 4 + j]) >>> 0;
    k = mul32(k, 0xcc9e2d51);
    k = rotl32(k, 15);
    k = mul32(k, 0x1b873593);
    h = (h ^ k) >>> 0;
    h = rotl32(h, 13);
    h = (mul32(h, 5) + 0xe6546b64) >>> 0;
  }
  let k = 0;
  for (let j = bytes.length - 1; j >= blocks * 4; j--) k = ((k << 8) | bytes[j]) >>> 0;
  if (bytes.length % 4 !== 0) {
    k = mul32(k, 0xcc9e2d51);
    k = rotl32(k, 15);
    k = mul32(k, 0x1b873593);
    h = (h ^ k) >>> 0;
  }
  h = (h ^ bytes.length) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = mul32(h, 0x85ebca6b);
  h = (h ^ (h >>> 13)) >>> 0;
  h = mul32(h, 0xc2b2ae35);
  h = (h ^ (h >>> 16)) >>> 0;
  return h;
}

export function referenceBucket(salt: string, targetingKey: string): number {
  const h = referenceMurmur3(new TextEncoder().encode(`${salt}:${targetingKey}`));
  return Number((BigInt(h) * 1_000_000n) / 4_294_967_296n);
}

export interface BucketingVector {
  salt: string;
  targetingKey: string;
  bucket: number;
}

/** A small deterministic PRNG (mulberry32) so that the vector inputs are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABETS = ['0123456789', 'abcdefghijklmnopqrstuvwxyz-_.:', 'äöüßéèçñ€£¥', '日本語中文한국어', '😀🚀🔐👍🏽', ' \t'];

/** The inputs: edge cases first (empty-ish, unicode, long), then random mixes. */
export function vectorInputs(): Array<{ salt: string; targetingKey: string }> {
  const rnd = prng(20261126);
  const pick = (s: string) => [...s][Math.floor(rnd() * [...s].length)];
  const word = (len: number, alphabet: string) => Array.from({ length: len }, () => pick(alphabet)).join('');
  const out: Array<{ salt: string; targetingKey: string }> = [];
  const salts = ['', 's', 'e2ee-1to1', 'ÿ', '盐', 'salt:with:colons', 'x'.repeat(200)];
  const keys = ['', ' ', '0', '1', '-1', ':', '00', '9223372036854775807', '18446744073709551615', 'ä', '日本', '😀', 'a'.repeat(1000), '🔐'.repeat(300)];
  for (const salt of salts) for (const targetingKey of keys) out.push({ salt, targetingKey });
  for (let len = 0; len <= 16; len++) out.push({ salt: 'len', targetingKey: 'k'.repeat(len) });
  while (out.length < 1200) {
    const alphabet = ALPHABETS[Math.floor(rnd() * ALPHABETS.length)];
    const numeric = rnd() < 0.4;
    const targetingKey = numeric ? String(Math.floor(rnd() * 2 ** 53)) : word(1 + Math.floor(rnd() * (rnd() < 0.1 ? 600 : 24)), alphabet);
    out.push({ salt: word(Math.floor(rnd() * 20), ALPHABETS[Math.floor(rnd() * 3)]), targetingKey });
  }
  return out;
}

export function referenceVectors(): BucketingVector[] {
  return vectorInputs().map((v) => ({ ...v, bucket: referenceBucket(v.salt, v.targetingKey) }));
}
