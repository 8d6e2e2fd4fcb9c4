import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { idArg, oneOf, positiveInt } from '../args';
import type { CliContext } from '../context';
import { CliError, EXIT, usageError } from '../errors';
import { localTime } from '../format';
import { formatInt, keyValues } from '../output';
import { apiCommand } from '../needs';
import type { ApiSchema } from '../api-types';

const FORMATS = ['ndjson', 'csv'] as const;
type Format = (typeof FORMATS)[number];
const MEDIA_TYPES: Record<Format, string> = { ndjson: 'application/x-ndjson', csv: 'text/csv' };
const EXTENSIONS: Record<string, Format> = { '.ndjson': 'ndjson', '.jsonl': 'ndjson', '.json': 'ndjson', '.csv': 'csv' };

type ImportSummary = ApiSchema<'ImportSummary'>;

type UserView = ApiSchema<'User'>;

type SeedSummary = ApiSchema<'SeedSummary'>;

function formatOf(file: string, given?: Format): Format {
  if (given) return given;
  const inferred = EXTENSIONS[extname(file).toLowerCase()];
  if (!inferred) throw usageError(`cannot tell the format of ${file} from its extension; pass --format ndjson|csv`);
  return inferred;
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw usageError(`${file} is not a file`);
    return s.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw usageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads the file in chunks, reporting bytes as they are handed to the HTTP request. */
async function* counted(file: string, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    onBytes((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

function importText(s: ImportSummary): string {
  let text = keyValues([
    ['import', s.importId],
    ['lines read', formatInt(s.read)],
    ['valid', formatInt(s.valid)],
    ['inserted', formatInt(s.inserted)],
    ['updated', formatInt(s.updated)],
    ['unchanged', formatInt(s.unchanged)],
    ['capability changed in a campaign (reassessed)', formatInt(s.reassessed)],
    ['duplicate ids', formatInt(s.duplicates)],
    ['rejected', formatInt(s.rejected)],
    ['took', `${(s.durationMs / 1000).toFixed(1)} s`],
  ]);
  if (s.rejectedLines.length > 0) {
    text += 'rejected lines:\n' + s.rejectedLines.map((r) => `  line ${r.line}: ${r.reason}`).join('\n') + '\n';
    if (s.rejected > s.rejectedLines.length) text += `  … and ${formatInt(s.rejected - s.rejectedLines.length)} more\n`;
  }
  return text;
}

function userText(u: UserView): string {
  return keyValues([
    ['id', u.id],
    ['country', u.country],
    ['platform', u.platform],
    ['app version', u.appVersion],
    ['e2ee capable', u.e2eeCapable ? 'yes' : 'no'],
    ['attributes', u.attributes],
    ['created', localTime(u.createdAt)],
    ['updated', localTime(u.updatedAt)],
  ]);
}

export function register(program: Command, ctx: CliContext): void {
  const users = program.command('users').description('the population: import, seed, read and change users');

  apiCommand(users, 'import', 'stream an NDJSON or CSV file of users into Cutover (re-running duplicates nobody)', {
    role: 'operator',
    routes: ['GET /api/v1/users/import', 'POST /api/v1/users/import'],
  })
    .argument('<file>', 'a .ndjson/.jsonl or .csv file (CSV needs a header line)')
    .option('--format <format>', 'ndjson or csv (default: from the file extension)', oneOf(FORMATS))
    .option('--fail-on-rejected', 'exit with code 1 when any line was rejected')
    .action(async (file: string, o: { format?: Format; failOnRejected?: boolean }) => {
      const format = formatOf(file, o.format);
      const size = await fileSize(file);
      const client = ctx.client();
      const out = ctx.out();
      await client.get('/api/v1/users/import'); // key, role and reachability before sending a large file
      const bar = new SingleBar({
        format: 'uploading [{bar}] {percentage}% | {value}/{total} bytes | {eta_formatted} left',
        stream: process.stderr,
        hideCursor: true,
      });
      if (!out.json) bar.start(size, 0);
      let sent = 0;
      let summary: ImportSummary;
      try {
        summary = await client.post<ImportSummary>('/api/v1/users/import', undefined, {
          stream: counted(file, (n) => {
            sent += n;
            bar.update(sent);
          }),
          contentType: MEDIA_TYPES[format],
        });
      } finally {
        bar.stop();
      }
      out.result(summary, importText);
      if (o.failOnRejected && summary.rejected > 0) {
        throw new CliError(`${formatInt(summary.rejected)} line(s) were rejected`, EXIT.apiOrUsage, 'cli.rejected_lines');
      }
    });

  apiCommand(users, 'seed', 'add a synthetic population after the highest user id (about 3% cannot do E2EE)', {
    role: 'operator',
    routes: ['POST /api/v1/users/seed'],
  })
    .requiredOption('--count <n>', 'how many users to add', positiveInt)
    .option('--seed <n>', 'reproducible attributes: the same seed and id give the same user', (v) => positiveInt(v))
    .action(async (o: { count: number; seed?: number }) => {
      const res = await ctx.client().post<SeedSummary>('/api/v1/users/seed', { count: o.count, seed: o.seed });
      ctx.out().result(res, (s) =>
        s.added === 0
          ? 'no users added'
          : `added ${formatInt(s.added)} users (ids ${s.fromId}–${s.toId}); ${formatInt(s.incapable)} cannot do E2EE yet`,
      );
    });

  apiCommand(users, 'get', "show one user's attributes", { role: 'viewer', routes: ['GET /api/v1/users/:id'] })
    .argument('<id>', 'user id', idArg)
    .action(async (id: string) => {
      ctx.out().result(await ctx.client().get<UserView>(`/api/v1/users/${id}`), userText);
    });

  apiCommand(users, 'update', "change a user's attributes (a change of eligibility re-assesses the user in running campaigns)", {
    role: 'operator',
    routes: ['PATCH /api/v1/users/:id'],
  })
    .argument('<id>', 'user id', idArg)
    .option('--country <code>', 'ISO 3166-1 alpha-2 country')
    .option('--platform <platform>', 'ios, android, web or desktop')
    .option('--app-version <version>', 'app version, e.g. 6.4.1')
    .option('--e2ee-capable <bool>', 'true or false', oneOf(['true', 'false'] as const))
    .option('--reason <reason>', 'why (recorded in the audit trail)')
    .action(async (id: string, o: { country?: string; platform?: string; appVersion?: string; e2eeCapable?: string; reason?: string }) => {
      const body = {
        country: o.country,
        platform: o.platform,
        appVersion: o.appVersion,
        e2eeCapable: o.e2eeCapable === undefined ? undefined : o.e2eeCapable === 'true',
        reason: o.reason,
      };
      ctx.out().result(await ctx.client().patch<UserView>(`/api/v1/users/${id}`, body), userText);
    });
}
