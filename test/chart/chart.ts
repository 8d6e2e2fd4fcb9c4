import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

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
