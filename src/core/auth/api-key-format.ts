import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^co_([a-z0-9]{8})_([A-Za-z0-9_-]{20,})$/;
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A new key `co_<prefix>_<secret>`: the prefix finds the row, the hash proves the secret. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const bytes = randomBytes(8);
  const prefix = Array.from(bytes, (b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('');
  const key = `co_${prefix}_${randomBytes(24).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function parseApiKey(key: string): { prefix: string } | null {
  const m = KEY_PATTERN.exec(key);
  return m ? { prefix: m[1] } : null;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Constant-time comparison of the presented key's hash with the stored one. */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

const STREAM_TOKEN = /^([a-z0-9]{8})\.([A-Za-z0-9_-]{43})$/;

/** The signature part of a key's event-stream token: HMAC-SHA256 keyed by the key's stored hash. */
export function eventStreamSignature(storedHash: string): string {
  return createHmac('sha256', storedHash).update('cutover:ofrep-event-stream').digest('base64url');
}

export function parseEventStreamToken(token: string): { prefix: string; signature: string } | null {
  const m = STREAM_TOKEN.exec(token);
  return m ? { prefix: m[1], signature: m[2] } : null;
}

export function signatureMatches(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
