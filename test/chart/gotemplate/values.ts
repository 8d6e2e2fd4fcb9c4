import { stringify } from 'yaml';

/**
 * Go's view of values, as Helm has them: numbers read from YAML are float64 (JS number), ints
 * made by `int`/`int64`/`add`/`len` or written in a template are int64 (JS bigint). Go's
 * text/template refuses to compare a float with an int, and prints a float64 of 1e6 or more
 * in exponent notation: both are reproduced, because both are classic chart bugs.
 */
export class TemplateError extends Error {}

export type Dict = Record<string, unknown>;

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** fmt's %v for a float64: strconv 'g' with the shortest precision, so an exponent from 1e6 up. */
export function goFloat(n: number): string {
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  return exp < -4 || exp >= 6 ? goExp(n) : String(n);
}

function goExp(n: number): string {
  const [mant, e] = n.toExponential().split('e');
  const sign = e.startsWith('-') ? '-' : '+';
  const digits = e.replace(/^[-+]/, '').padStart(2, '0');
  return `${mant}e${sign}${digits}`;
}

/** What `{{ x }}` prints and what `toString`/`print` make of a value. */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isDict(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goString(v[k])}`).join(' ')}]`;
  return String(v);
}

/** Go template truth: false, 0, nil, and empty strings, lists and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v === 0 || v === 0n || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** Sprig's toInt64. */
export function toInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return /^-?\d+$/.test(v.trim()) ? BigInt(v.trim()) : /^-?\d*\.\d+$/.test(v.trim()) ? BigInt(Math.trunc(Number(v))) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

function kindOf(v: unknown): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (v === null || v === undefined) return 'nil';
  return typeof v;
}

/** text/template's eq/lt: same basic kinds only. */
export function compare(a: unknown, b: unknown): number {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) throw new TemplateError(`incompatible types for comparison: ${ka} and ${kb}`);
  if (ka === 'string' || ka === 'int' || ka === 'float') return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (ka === 'boolean') return a === b ? 0 : 1;
  throw new TemplateError(`invalid type for comparison: ${ka}`);
}

/** Helm's toYaml: sorted keys, no trailing newline; numbers keep their float64 printing. */
export function toYaml(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  const plain = JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x))) as unknown;
  return stringify(plain, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}
