/**
 * Sticky rollout buckets: `murmur3_x86_32(utf8(salt + ":" + targetingKey), seed 0)` as an
 * unsigned integer, scaled to parts per million. The hash is the contract shared with the
 * migration engine (`user_migrations.bucket`) and with every SDK-side implementation, so it
 * must never change for hash version 1 (docs/bucketing-vectors.json pins it).
 */
export const PPM = 1_000_000;
export const HASH_VERSIONS = [1] as const;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** murmur3_x86_32 over `len` bytes of `buf`, seed 0, unsigned. */
export function murmur3(buf: Uint8Array, len: number): number {
  let h = 0;
  const tail = len & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest > 0) {
    let k = buf[tail];
    if (rest > 1) k ^= buf[tail + 1] << 8;
    if (rest > 2) k ^= buf[tail + 2] << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** floor(h * 1e6 / 2^32), exact in doubles (h * 1e6 < 2^53). */
export function bucketFromHash(h: number): number {
  return Math.floor((h * PPM) / 4294967296);
}

function mixBlock(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, pending: number, pendingBytes: number, len: number): number {
  if (pendingBytes > 0) {
    let k = Math.imul(pending, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Buckets for one salt without allocating per call. The murmur3 state after the whole
 * 4-byte blocks of `salt:` is computed once; an ASCII key is then mixed straight from its
 * char codes (no encoding, no buffer). A non-ASCII key goes through a reusable buffer.
 */
export class SaltedBucketer {
  private buf: Buffer;
  private readonly prefixLen: number;
  private readonly h0: number;
  private readonly pending0: number;
  private readonly pendingBytes0: number;

  constructor(readonly salt: string) {
    const prefix = Buffer.from(`${salt}:`, 'utf8');
    this.prefixLen = prefix.length;
    this.buf = Buffer.allocUnsafe(this.prefixLen + 256);
    prefix.copy(this.buf, 0);
    const whole = this.prefixLen & ~3;
    let h = 0;
    for (let i = 0; i < whole; i += 4) h = mixBlock(h, prefix[i] | (prefix[i + 1] << 8) | (prefix[i + 2] << 16) | (prefix[i + 3] << 24));
    let pending = 0;
    for (let i = whole; i < this.prefixLen; i++) pending |= prefix[i] << ((i - whole) * 8);
    this.h0 = h;
    this.pending0 = pending;
    this.pendingBytes0 = this.prefixLen - whole;
  }

  bucket(targetingKey: string): number {
    let h = this.h0;
    let pending = this.pending0;
    let n = this.pendingBytes0;
    const len = targetingKey.length;
    for (let i = 0; i < len; i++) {
      const c = targetingKey.charCodeAt(i);
      if (c >= 0x80) return this.slowBucket(targetingKey);
      pending |= c << (n << 3);
      if (++n === 4) {
        h = mixBlock(h, pending);
        pending = 0;
        n = 0;
      }
    }
    return bucketFromHash(finish(h, pending, n, this.prefixLen + len));
  }

  private slowBucket(targetingKey: string): number {
    const start = this.prefixLen;
    if (start + targetingKey.length * 3 > this.buf.length) this.grow(start + targetingKey.length * 3);
    const len = start + this.buf.write(targetingKey, start, 'utf8');
    return bucketFromHash(murmur3(this.buf, len));
  }

  private grow(size: number): void {
    const next = Buffer.allocUnsafe(size + 64);
    this.buf.copy(next, 0, 0, this.prefixLen);
    this.buf = next;
  }
}

const bucketers = new Map<string, SaltedBucketer>();

/** The contract function: bucket of a targeting key under a salt. */
export function bucketOf(salt: string, targetingKey: string): number {
  let b = bucketers.get(salt);
  if (!b) {
    if (bucketers.size > 1_000) bucketers.clear();
    b = new SaltedBucketer(salt);
    bucketers.set(salt, b);
  }
  return b.bucket(targetingKey);
}
