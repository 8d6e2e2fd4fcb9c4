import { createHash, randomInt } from 'node:crypto';
import { TemplateError, compare, goFloat, goString, isDict, toInt, toYaml, truthy, type Dict } from './values';

/** The Sprig and Helm functions the chart uses, with their argument order and Go semantics. */
export type Fn = (...args: unknown[]) => unknown;

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v));

function printf(format: string, ...args: unknown[]): string {
  let i = 0;
  return format.replace(/%([%sdvq])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    switch (verb) {
      case 's':
      case 'v':
        return goString(a);
      case 'q':
        return JSON.stringify(goString(a));
      case 'd':
        return typeof a === 'bigint' ? a.toString() : `%!d(${typeof a === 'number' ? `float64=${goFloat(a)}` : goString(a)})`;
      default:
        throw new TemplateError(`printf verb %${verb}`);
    }
  });
}

/** fmt.Sprint: a space between operands when neither is a string. */
function sprint(...args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goString(a);
  });
  return out;
}

function indent(n: unknown, s: unknown): string {
  const pad = ' '.repeat(Number(toInt(n)));
  return goString(s).split('\n').map((l) => pad + l).join('\n');
}

function kindIs(kind: unknown, v: unknown): boolean {
  const k = Array.isArray(v) ? 'slice' : isDict(v) ? 'map' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'float64'
    : typeof v === 'bigint' ? 'int64' : typeof v === 'boolean' ? 'bool' : 'invalid';
  return k === kind;
}

function eq(a: unknown, ...bs: unknown[]): boolean {
  return bs.some((b) => compare(a, b) === 0);
}

export const FUNCS: Record<string, Fn> = {
  eq,
  ne: (a, b) => !eq(a, b),
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  not: (a) => !truthy(a),
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truthy(x)) ?? a[a.length - 1],
  len: (a) => BigInt(typeof a === 'string' || Array.isArray(a) ? a.length : isDict(a) ? Object.keys(a).length : 0),
  index: (m, ...keys) => keys.reduce((cur: unknown, k) => (isDict(cur) ? cur[goString(k)] : Array.isArray(cur) ? cur[Number(k)] : undefined), m),
  print: sprint,
  printf: (f, ...a) => printf(goString(f), ...a),
  println: (...a) => `${sprint(...a)}\n`,
  default: (d, ...given) => (given.length === 0 || !truthy(given[0]) ? d : given[0]),
  empty: (v) => !truthy(v),
  coalesce: (...a) => a.find(truthy) ?? null,
  ternary: (a, b, cond) => (truthy(cond) ? a : b),
  required: (msg, v) => {
    if (v === null || v === undefined || v === '') throw new TemplateError(goString(msg));
    return v;
  },
  fail: (msg) => {
    throw new TemplateError(goString(msg));
  },
  trunc: (n, s) => {
    const str = goString(s);
    const k = Number(toInt(n));
    return k >= 0 ? str.slice(0, k) : str.slice(k);
  },
  trimSuffix: (suffix, s) => (goString(s).endsWith(goString(suffix)) && goString(suffix) ? goString(s).slice(0, -goString(suffix).length) : goString(s)),
  trimPrefix: (prefix, s) => (goString(s).startsWith(goString(prefix)) ? goString(s).slice(goString(prefix).length) : goString(s)),
  replace: (o, n, s) => goString(s).split(goString(o)).join(goString(n)),
  contains: (sub, s) => goString(s).includes(goString(sub)),
  lower: (s) => goString(s).toLowerCase(),
  upper: (s) => goString(s).toUpperCase(),
  toString: (v: unknown) => goString(v),
  int: (v) => toInt(v),
  int64: (v) => toInt(v),
  float64: (v) => num(v),
  add: (...a) => a.reduce((s: bigint, x) => s + toInt(x), 0n),
  sub: (a, b) => toInt(a) - toInt(b),
  mul: (...a) => a.reduce((s: bigint, x) => s * toInt(x), 1n),
  div: (a, b) => toInt(a) / toInt(b),
  max: (...a) => a.map(toInt).reduce((m, x) => (x > m ? x : m)),
  min: (...a) => a.map(toInt).reduce((m, x) => (x < m ? x : m)),
  dict: (...kv) => {
    const d: Dict = {};
    for (let i = 0; i + 1 < kv.length; i += 2) d[goString(kv[i])] = kv[i + 1];
    return d;
  },
  list: (...a) => a,
  hasKey: (m, k) => isDict(m) && goString(k) in m,
  kindIs,
  quote: (...a) => a.filter((x) => x !== null && x !== undefined).map((x) => JSON.stringify(goString(x))).join(' '),
  squote: (...a) => a.filter((x) => x !== null && x !== undefined).map((x) => `'${goString(x)}'`).join(' '),
  indent,
  nindent: (n, s) => `\n${indent(n, s)}`,
  toYaml: (v) => toYaml(v),
  toJson: (v) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x)),
  sha256sum: (s) => createHash('sha256').update(goString(s)).digest('hex'),
  b64enc: (s) => Buffer.from(goString(s)).toString('base64'),
  b64dec: (s) => Buffer.from(goString(s), 'base64').toString('utf8'),
  randAlphaNum: (n) => Array.from({ length: Number(toInt(n)) }, () => ALNUM[randomInt(ALNUM.length)]).join(''),
  /** dig "a" "b" default dict: a nested key, or the default where a level is missing */
  dig: (...args) => {
    const dict = args[args.length - 1];
    const fallback = args[args.length - 2];
    let cur: unknown = dict;
    for (const k of args.slice(0, -2)) {
      if (!isDict(cur) || !(goString(k) in cur)) return fallback;
      cur = cur[goString(k)];
    }
    return cur;
  },
  /** `helm template` and `--dry-run` have no cluster: lookup answers an empty map there */
  lookup: () => ({}),
};

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
