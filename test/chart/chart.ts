import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, parse, parseDocument, type Node, type YAMLMap } from 'yaml';

/** Reading the Helm chart the way Helm would, for the checks that run where Helm cannot. */
export const REPO = join(__dirname, '..', '..');
export const CHART = join(REPO, 'charts', 'cutover');
export const TEMPLATES = join(CHART, 'templates');

export type Values = Record<string, unknown>;

export function readText(...parts: string[]): string {
  return readFileSync(join(...parts), 'utf8');
}

export function loadValues(): Values {
  return parse(readText(CHART, 'values.yaml')) as Values;
}

export function loadSchema(): object {
  return JSON.parse(readText(CHART, 'values.schema.json')) as object;
}

/** The example values files under ci/ (the chart-testing convention), by file name. */
export function ciValueFiles(): Map<string, Values> {
  const dir = join(CHART, 'ci');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  return new Map(files.map((f) => [f, parse(readText(dir, f)) as Values]));
}

export function templateFiles(): string[] {
  return readdirSync(TEMPLATES).sort();
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's coalescing of a user values file over the chart's values: maps merge, the rest replaces, null deletes. */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(out[key])) out[key] = mergeValues(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}

/** Whether a dotted path (`api.ingress.hosts`) exists in the values tree. */
export function hasPath(values: Values, path: string): boolean {
  let node: unknown = values;
  for (const part of path.split('.')) {
    if (!isPlainObject(node) || !(part in node)) return false;
    node = node[part];
  }
  return true;
}

export interface ValueDoc {
  key: string;
  type: string;
  default: string;
  description: string;
}

/** `# -- text` (helm-docs convention) from a comment block: the last `--` paragraph. */
function describe(comment: string | null | undefined): string | null {
  if (!comment) return null;
  const lines = comment.split('\n').map((l) => l.trim());
  const start = lines.map((l) => l.startsWith('--')).lastIndexOf(true);
  if (start < 0) return null;
  return lines.slice(start).join(' ').replace(/^--\s*/, '').trim();
}

function typeOf(node: Node | null): string {
  if (isMap(node)) return 'object';
  if (isSeq(node)) return 'list';
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
    if (typeof v === 'boolean') return 'bool';
    return 'string';
  }
  return 'string';
}

/**
 * Every documented value of values.yaml, in file order. A key is a leaf when its value is not a
 * map, is an empty map, or carries its own `# --` description (a documented map is one row).
 */
export function valueDocs(text = readText(CHART, 'values.yaml')): ValueDoc[] {
  const doc = parseDocument(text);
  const rows: ValueDoc[] = [];
  const walk = (map: YAMLMap, prefix: string): void => {
    map.items.forEach((pair, i) => {
      const key = `${prefix}${String((pair.key as { value: unknown }).value)}`;
      const value = pair.value as Node | null;
      const own = (pair.key as Node).commentBefore ?? (i === 0 ? map.commentBefore : null);
      const description = describe(own);
      if (isMap(value) && value.items.length > 0 && description === null) {
        walk(value, `${key}.`);
        return;
      }
      const json = JSON.stringify(value === null ? null : (value as Node).toJSON());
      rows.push({ key, type: typeOf(value), default: json, description: description ?? '' });
    });
  };
  walk(doc.contents as YAMLMap, '');
  return rows;
}

const TABLE_START = '<!-- values-table:start -->';
const TABLE_END = '<!-- values-table:end -->';

export function renderValuesTable(rows: readonly ValueDoc[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| Key | Type | Default | Description |', '| --- | --- | --- | --- |'];
  for (const r of rows) lines.push(`| \`${r.key}\` | ${r.type} | \`${esc(r.default)}\` | ${esc(r.description)} |`);
  return lines.join('\n');
}

/** The table between the markers of charts/cutover/README.md, or null without markers. */
export function readmeTable(readme: string): string | null {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return null;
  return readme.slice(start + TABLE_START.length, end).trim();
}

export function withReadmeTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
