import { connect } from 'node:net';

/**
 * Why an answer is not in the API's documented error shape `{ code, message, details }`
 * (details present, null allowed), or null when it is (or is not an error).
 */
export function errorShapeViolation(status: number, text: string): string | null {
  if (status < 400) return null;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return `${status} with a JSON body that is not an object`;
  const b = body as Record<string, unknown>;
  if (typeof b.code !== 'string' || b.code === '') return `${status} without a string code: ${text.slice(0, 160)}`;
  if (typeof b.message !== 'string' || b.message === '') return `${status} without a string message: ${text.slice(0, 160)}`;
  if (!('details' in b)) return `${status} without details: ${text.slice(0, 160)}`;
  return null;
}

/** JSON text nested `depth` levels deep, as objects `{"a":…}` or arrays. */
export function deepJson(depth: number, arrays = false): string {
  return arrays ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Strings PostgreSQL cannot store or that are absurdly long: each must be a 400 naming the field, never a 500. */
export const HOSTILE_TEXT: ReadonlyArray<[label: string, value: string]> = [
  ['NUL', 'before\u0000after'],
  ['only NUL', '\u0000\u0000\u0000'],
  ['lone high surrogate', 'x\ud800y'],
  ['lone low surrogate', 'x\udc00y'],
  ['reversed pair', 'pair \udc00\ud800'],
  ['100 kB', 'r'.repeat(100_000)],
  ['100 kB with NUL', `${'n'.repeat(50_000)}\u0000${'n'.repeat(50_000)}`],
  ['deep JSON text', deepJson(10_000)],
];

/** A JSON body with `value` at `path` (dot separated), other fields from `base`. */
export function bodyWith(base: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const out = structuredClone(base);
  const keys = path.split('.');
  let at: Record<string, unknown> = out;
  for (const k of keys.slice(0, -1)) {
    at[k] = typeof at[k] === 'object' && at[k] !== null ? at[k] : {};
    at = at[k] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]] = value;
  return out;
}

/** JSON text of `base` with the raw JSON text `raw` at the top-level field `field` (for values too deep to build). */
export function withRawField(base: Record<string, unknown>, field: string, raw: string): string {
  const rest = JSON.stringify({ ...base, [field]: undefined });
  return rest === '{}' ? `{"${field}":${raw}}` : `{"${field}":${raw},${rest.slice(1)}`;
}

export interface RawAnswer {
  status: number;
  body: string;
  raw: string;
}

/**
 * Sends bytes as they are on a fresh TCP connection (what fetch refuses to send: bad bytes in
 * the request line, oversized headers, broken framing) and reads the answer until the server
 * closes or `ms` pass.
 */
export function rawRequest(port: number, bytes: Buffer | string, ms = 3_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(raw.slice(0, 200))}`));
      const split = raw.indexOf('\r\n\r\n');
      resolve({ status: Number(m[1]), body: split === -1 ? '' : decodeBody(raw.slice(0, split), raw.slice(split + 4)), raw });
    };
    const timer = setTimeout(finish, ms);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const text = Buffer.concat(chunks).toString('utf8');
      const length = /\r\ncontent-length: (\d+)/i.exec(text);
      const split = text.indexOf('\r\n\r\n');
      if (length && split !== -1 && Buffer.byteLength(text.slice(split + 4)) >= Number(length[1])) finish();
    });
    socket.on('end', finish);
    socket.on('error', () => (chunks.length ? finish() : reject(new Error('connection failed'))));
    socket.write(bytes);
  });
}

function decodeBody(head: string, body: string): string {
  if (!/\r\ntransfer-encoding: chunked/i.test(head)) return body;
  let out = '';
  for (let rest = body; ; ) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (!size) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 2 + size + 2);
  }
}
