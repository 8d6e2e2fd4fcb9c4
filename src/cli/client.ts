import { CliError, EXIT } from './errors';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface Connection {
  url: string;
  key?: string;
}

/**
 * The CLI's one reader of the environment: flags win over CUTOVER_URL / CUTOVER_API_KEY.
 */
export function resolveConnection(flags: { url?: string; key?: string }): Connection {
  // eslint-disable-next-line no-restricted-properties -- the CLI's single config reader (flags or environment)
  const env = process.env;
  const url = (flags.url ?? env.CUTOVER_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new CliError(`--url / CUTOVER_URL is not an http(s) URL: ${url}`, EXIT.apiOrUsage, 'cli.usage');
  }
  const key = flags.key ?? (env.CUTOVER_API_KEY || undefined);
  return { url, key };
}

export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body; bigint values are sent as strings */
  body?: unknown;
  /** a streamed body (e.g. a file): sent as is with `contentType` */
  stream?: AsyncIterable<Uint8Array>;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
  /** the version in the ETag header, for If-Match on the next write */
  etag?: string;
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A thin typed client over fetch: API errors become CliErrors with the API's code and message. */
export class ApiClient {
  constructor(readonly connection: Connection) {}

  get url(): string {
    return this.connection.url;
  }

  async get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('GET', path, opts)).body;
  }

  async post<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('POST', path, { ...opts, body })).body;
  }

  async patch<T>(path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('PATCH', path, { ...opts, body })).body;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const res = await this.fetchRaw(path, { method, ...opts });
    const text = await res.text();
    const body = parseBody(text);
    if (!res.ok) throw apiError(res.status, body, this.connection);
    const etag = res.headers.get('etag')?.replace(/^W\//, '').replace(/"/g, '') || undefined;
    return { status: res.status, body: body as T, headers: res.headers, etag };
  }

  /** The raw Response (for streams such as SSE); throws on network errors only. */
  async fetchRaw(path: string, opts: RequestOptions & { method?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.connection.key) headers.authorization = `Bearer ${this.connection.key}`;
    let body: string | AsyncIterable<Uint8Array> | undefined;
    if (opts.stream) {
      body = opts.stream;
      headers['content-type'] = opts.contentType ?? 'application/octet-stream';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body, jsonSafe);
      headers['content-type'] = 'application/json';
    }
    const init = { method: opts.method ?? 'GET', headers, body, signal: opts.signal, duplex: 'half' };
    try {
      return await fetch(this.connection.url + path + queryString(opts.query), init as RequestInit);
    } catch (err) {
      throw unreachable(err, this.connection.url);
    }
  }

  /** Throws the CliError for a non-2xx Response obtained through fetchRaw. */
  async ensureOk(res: Response): Promise<Response> {
    if (res.ok) return res;
    throw apiError(res.status, parseBody(await res.text()), this.connection);
  }
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isErrorBody(b: unknown): b is ApiErrorBody {
  return typeof b === 'object' && b !== null && typeof (b as ApiErrorBody).code === 'string';
}

function apiError(status: number, body: unknown, conn: Connection): CliError {
  const parsed: ApiErrorBody = isErrorBody(body)
    ? body
    : { code: `http.${status}`, message: typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}` };
  const errorId = (parsed.details as { errorId?: string } | undefined)?.errorId;
  let message = `${parsed.message} (${parsed.code}, HTTP ${status})`;
  if (errorId) message += ` errorId=${errorId}`;
  if (status === 401 || status === 403) {
    if (status === 401 && !conn.key) message += '; pass --key or set CUTOVER_API_KEY';
    return new CliError(message, EXIT.auth, parsed.code, parsed.details);
  }
  return new CliError(message, EXIT.apiOrUsage, parsed.code, parsed.details);
}

function unreachable(err: unknown, url: string): CliError {
  if (err instanceof Error && err.name === 'AbortError') return new CliError('request aborted', EXIT.apiOrUsage, 'cli.aborted');
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CliError(`cannot reach the Cutover API at ${url}: ${why}`, EXIT.unreachable, 'cli.unreachable');
}
