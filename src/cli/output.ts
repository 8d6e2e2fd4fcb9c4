/** Human output by default, JSON for scripts (`--json`). Data goes to stdout, chatter to stderr. */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  /** Prints `value` as JSON with --json, otherwise as the text `human` makes of it. */
  result<T>(value: T, human: (v: T) => string): void {
    this.stdout.write(this.json ? `${toJson(value)}\n` : ensureNewline(human(value)));
  }

  /** Progress or hints for a person; never mixed into the JSON on stdout. */
  info(message: string): void {
    this.stderr.write(ensureNewline(message));
  }

  error(message: string, body?: { code?: string; details?: unknown }): void {
    if (this.json) this.stderr.write(`${toJson({ error: { code: body?.code ?? 'cli.error', message, details: body?.details } })}\n`);
    else this.stderr.write(`error: ${ensureNewline(message)}`);
  }
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  align?: 'left' | 'right';
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) =>
    vals.map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

export function keyValues(pairs: ReadonlyArray<[string, unknown]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v)}`).join('\n') + '\n';
}

function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function formatInt(n: number | bigint | string): string {
  return Number(n).toLocaleString('en-US');
}
