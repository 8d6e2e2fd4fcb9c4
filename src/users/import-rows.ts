import type { ZodError } from 'zod';
import { findHostileInput, formatPath, jsonTooDeepAt, MAX_JSON_DEPTH } from '../core/validation/hostile-input';
import { importRowSchema } from './users.schemas';
import type { ImportRow } from './users.types';

/** A decoded line: a valid row, or why it was rejected. */
export type Decoded = { row: ImportRow } | { reason: string };

/** CSV/NDJSON spellings of the row fields, mapped to the API's names. */
const ALIASES: Record<string, string> = { app_version: 'appVersion', e2ee_capable: 'e2eeCapable' };
const ALIAS_ENTRIES = Object.entries(ALIASES);
const REQUIRED = ['id', 'country', 'platform', 'appVersion', 'e2eeCapable'] as const;
const ROW_FIELDS = new Set<string>([...REQUIRED, 'attributes']);

export class ImportHeaderError extends Error {}

function zodReason(err: ZodError): string {
  return err.issues.map((i) => `${i.path.map(String).join('.') || '(row)'}: ${i.message}`).join('; ');
}

function validate(candidate: Record<string, unknown>): Decoded {
  const r = importRowSchema.safeParse(candidate);
  if (!r.success) return { reason: zodReason(r.error) };
  const v = r.data;
  // the other fields' rules admit no NUL or surrogate; attributes are free JSON stored as jsonb
  const hostile = findHostileInput(v.attributes, 'attributes', MAX_JSON_DEPTH - 1);
  if (hostile) return { reason: `${hostile.field}: ${hostile.message}` };
  return {
    row: {
      id: BigInt(v.id),
      country: v.country.toUpperCase(),
      platform: v.platform,
      appVersion: v.appVersion,
      e2eeCapable: v.e2eeCapable,
      attributes: v.attributes ?? {},
    },
  };
}

/** One NDJSON line: a JSON object with the row fields (snake_case aliases accepted). */
export function decodeNdjson(text: string): Decoded {
  // only a long line can nest deep enough to make JSON.parse itself costly
  const deep = text.length > 4096 ? jsonTooDeepAt(text, MAX_JSON_DEPTH) : null;
  if (deep) return { reason: `${formatPath('', deep)}: nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { reason: 'not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { reason: 'expected a JSON object' };
  const obj = value as Record<string, unknown>;
  for (const [from, to] of ALIAS_ENTRIES) {
    if (from in obj) {
      if (to in obj) return { reason: `${from}: given twice (also as ${to})` };
      obj[to] = obj[from];
      delete obj[from];
    }
  }
  return validate(obj);
}

/** Splits one CSV line (RFC 4180 quoting; a quoted field may not span lines). */
export function splitCsvLine(text: string): string[] | null {
  if (!text.includes('"')) return text.split(',');
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q === -1) return null;
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      if (i < text.length && text[i] !== ',') return null;
    } else {
      const c = text.indexOf(',', i);
      field = text.slice(i, c === -1 ? text.length : c);
      if (field.includes('"')) return null;
      i = c === -1 ? text.length : c;
    }
    out.push(field);
    if (i >= text.length) return out;
    i++;
  }
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false, t: true, f: false, yes: true, no: false };

/**
 * Decodes CSV lines against the header. Columns other than the row fields become string
 * attributes; an `attributes` column holds a JSON object merged under them.
 */
export class CsvDecoder {
  private readonly columns: string[];

  constructor(headerLine: string) {
    const cells = splitCsvLine(headerLine.replace(/^\uFEFF/, ''));
    if (!cells) throw new ImportHeaderError('the CSV header line is not valid CSV');
    this.columns = cells.map((c) => ALIASES[c.trim()] ?? c.trim());
    const missing = REQUIRED.filter((r) => !this.columns.includes(r));
    if (missing.length > 0) throw new ImportHeaderError(`the CSV header lacks column(s): ${missing.join(', ')}`);
    const dup = this.columns.find((c, i) => this.columns.indexOf(c) !== i);
    if (dup !== undefined) throw new ImportHeaderError(`the CSV header names column ${dup} twice`);
    if (this.columns.some((c) => c === '')) throw new ImportHeaderError('the CSV header has an empty column name');
  }

  decode(text: string): Decoded {
    const cells = splitCsvLine(text);
    if (!cells) return { reason: 'malformed CSV quoting' };
    if (cells.length !== this.columns.length) return { reason: `expected ${this.columns.length} fields, found ${cells.length}` };
    const row: Record<string, unknown> = {};
    const extra: Record<string, unknown> = {};
    for (let i = 0; i < cells.length; i++) {
      const col = this.columns[i];
      if (ROW_FIELDS.has(col)) row[col] = cells[i];
      else if (cells[i] !== '') extra[col] = cells[i];
    }
    const capable = BOOLEANS[String(row.e2eeCapable).trim().toLowerCase()];
    if (capable === undefined) return { reason: 'e2eeCapable: expected true or false' };
    row.e2eeCapable = capable;
    const attrs = parseAttributesCell(row.attributes);
    if (typeof attrs === 'string') return { reason: attrs };
    row.attributes = { ...extra, ...attrs };
    return validate(row);
  }
}

function parseAttributesCell(cell: unknown): Record<string, unknown> | string {
  if (cell === undefined || cell === '') return {};
  try {
    const v: unknown = JSON.parse(String(cell));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  return 'attributes: expected a JSON object';
}

/**
 * The row as one line of COPY text format (tab separated). Only the attributes JSON can hold
 * a backslash; the other fields are restricted by validation to characters COPY takes as is.
 */
export function toCopyLine(row: ImportRow, line: number): string {
  let json = JSON.stringify(row.attributes);
  if (json.includes('\\')) json = json.replace(/\\/g, '\\\\');
  return `${row.id}\t${row.country}\t${row.platform}\t${row.appVersion}\t${row.e2eeCapable ? 't' : 'f'}\t${json}\t${line}\n`;
}
