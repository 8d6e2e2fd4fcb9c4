import type { FieldIssue } from './zod.pipe';

/**
 * Deepest nesting of objects and arrays any request body, query, path parameter or import
 * line may have. The API's own shapes need at most 6 levels; user attributes (free JSON)
 * get the rest. Deeper values are refused before anything recurses over them.
 */
export const MAX_JSON_DEPTH = 32;

/** Longest an object key or path segment is shown in an error message. */
const SEGMENT_SHOWN = 64;

const NUL = '\u0000';

/**
 * Why PostgreSQL (or any UTF-8 consumer) cannot take this text: a NUL character (text and
 * jsonb refuse it) or a lone UTF-16 surrogate (no UTF-8 encoding exists for it).
 */
export function textProblem(s: string): string | null {
  if (s.includes(NUL)) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (!s.isWellFormed()) return 'contains a lone UTF-16 surrogate, which is not valid Unicode text';
  return null;
}

/** The text with NUL characters and lone surrogates replaced by U+FFFD. */
export function normalizeText(s: string): string {
  return s.isWellFormed() && !s.includes(NUL) ? s : s.toWellFormed().replaceAll(NUL, '\ufffd');
}

/** At most `max` UTF-16 units, never cutting a surrogate pair, ending with "…" when cut. */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  if (/[\ud800-\udbff]/.test(s[end - 1] ?? '')) end--;
  return `${s.slice(0, end)}…`;
}

/** Keys that would reach an object's prototype if a later merge used assignment. */
function keyProblem(key: string, parentKey: string | number | undefined): string | null {
  if (key === '__proto__') return 'the key __proto__ is not allowed';
  if (key === 'prototype' && parentKey === 'constructor') return 'the key constructor.prototype is not allowed';
  const text = textProblem(key);
  return text ? `this key ${text}` : null;
}

interface Node {
  value: unknown;
  key: string | number | undefined;
  parent: Node | undefined;
  depth: number;
}

function pathOf(node: Node | undefined, root: string): string {
  const keys: Array<string | number> = [];
  for (let n = node; n && n.key !== undefined; n = n.parent) keys.push(n.key);
  return formatPath(root, keys.reverse());
}

function issueAt(node: Node, root: string, message: string, key?: string): FieldIssue {
  const at = key === undefined ? node : { value: undefined, key, parent: node, depth: node.depth + 1 };
  return { field: pathOf(at, root), message };
}

/**
 * A value under `root` that no handler should ever see (the first one met): text that
 * cannot be stored, nesting deeper than `maxDepth`, or a prototype-polluting key. Iterative,
 * so any depth is safe to inspect; `root` prefixes the reported path (`body`, `query`).
 */
export function findHostileInput(value: unknown, root = '', maxDepth = MAX_JSON_DEPTH): FieldIssue | null {
  const stack: Node[] = [{ value, key: undefined, parent: undefined, depth: 0 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return issueAt(node, root, problem);
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (node.depth >= maxDepth) return issueAt(node, root, `nested deeper than ${maxDepth} levels of objects and arrays`);
    const depth = node.depth + 1;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i] as unknown, key: i, parent: node, depth });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const problem = keyProblem(keys[i], node.key);
      if (problem) return issueAt(node, root, problem, keys[i]);
      stack.push({ value: (v as Record<string, unknown>)[keys[i]], key: keys[i], parent: node, depth });
    }
  }
  return null;
}

function unquote(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

/** Index of the quote that closes the string opened at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  for (let j = text.indexOf('"', open + 1); j !== -1; j = text.indexOf('"', j + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
  }
  return -1;
}

/**
 * Where JSON `text` first nests deeper than `limit` (the keys and indexes leading there), or
 * null: found by a scan, without parsing, so a body of a million `[` costs one pass instead
 * of a parse that builds a million arrays. Malformed text is left for JSON.parse to report.
 */
export function jsonTooDeepAt(text: string, limit = MAX_JSON_DEPTH): Array<string | number> | null {
  const frames: Array<{ array: boolean; key: string | number | undefined }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end === -1) return null;
      const top = frames[frames.length - 1];
      if (top && !top.array && top.key === undefined) top.key = unquote(text.slice(i, end + 1));
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (frames.length >= limit) return frames.map((f) => f.key ?? '');
      frames.push({ array: c === 0x5b, key: c === 0x5b ? 0 : undefined });
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
    } else if (c === 0x2c) {
      const top = frames[frames.length - 1];
      if (top) top.key = top.array ? (top.key as number) + 1 : undefined;
    }
  }
  return null;
}

/** `body.a.0.b` for a path of keys and indexes, each key made printable and short. */
export function formatPath(root: string, path: ReadonlyArray<string | number>): string {
  const parts = path.map((k) => {
    const s = typeof k === 'number' ? String(k) : normalizeText(k);
    return s.length > SEGMENT_SHOWN ? `${s.slice(0, SEGMENT_SHOWN)}…` : s;
  });
  return [root, ...parts].filter(Boolean).join('.') || '(root)';
}
