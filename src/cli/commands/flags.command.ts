import { InvalidArgumentError, type Command } from 'commander';
import { positiveInt } from '../args';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { localTime } from '../format';
import { keyValues, table } from '../output';
import { apiCommand } from '../needs';
import type { ApiSchema } from '../api-types';

type FlagView = ApiSchema<'Flag'>;

function flagKey(value: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(value)) throw new InvalidArgumentError('must be a flag key (lowercase letters, digits, ".", "_", "-")');
  return value;
}

function percent(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d{1,4})?$/.test(value) || n > 100) throw new InvalidArgumentError('must be a percentage 0..100 with at most 4 decimals');
  return n;
}

function ppm(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 1_000_000) throw new InvalidArgumentError('must be parts per million, 0..1000000');
  return n;
}

function describe(f: FlagView): string {
  return keyValues([
    ['key', f.key],
    ['state', f.archivedAt ? `archived ${f.archivedAt}` : f.killed ? `KILLED (${f.killReason ?? 'no reason'}) at ${f.killedAt}` : 'live'],
    ['rollout', `${f.rolloutPercent}% (${f.rolloutPpm} ppm) → ${f.rolloutVariant}, others ${f.offVariant}`],
    ['rules', f.rules.length],
    ['variants', Object.entries(f.variants).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')],
    ['salt / hash', `${f.salt} / v${f.hashVersion}`],
    ['version', f.version],
    ['updated', localTime(f.updatedAt)],
  ]);
}

type ConversationAnswer = ApiSchema<'ConversationEvaluation'>;

/** `42` is a user id; `42:capable` also says every device of theirs can do E2EE. */
function participant(value: string, previous: unknown[] = []): unknown[] {
  const m = /^([0-9]{1,19})(:capable)?$/.exec(value);
  if (!m) throw new InvalidArgumentError('must be a user id, optionally followed by :capable');
  return [...previous, m[2] ? { targetingKey: m[1], e2eeCapable: true } : m[1]];
}

function describeConversation(r: ConversationAnswer): string {
  const head = r.on ? `ON for conversation ${r.conversationId}` : `OFF for conversation ${r.conversationId}: ${r.notReady?.participant} is not ready (${r.notReady?.reason})`;
  return `${head}\n${table(r.participants, [
    { header: 'USER', value: (p) => p.targetingKey },
    { header: 'BUCKET', value: (p) => p.bucket, align: 'right' },
    { header: 'VARIANT', value: (p) => p.variant },
    { header: 'CAPABLE', value: (p) => (p.capable ? 'yes' : '-') },
    { header: 'ENABLED', value: (p) => (p.ratchetEnabled ? 'yes' : '-') },
    { header: 'READY', value: (p) => (p.ready ? 'yes' : `no: ${p.why}`) },
  ])}`;
}

/** A write with If-Match: the version given, or the one just read (a change in between is a 409). */
async function write(ctx: CliContext, key: string, action: string, body: unknown, ifMatch?: number): Promise<void> {
  const client = ctx.client();
  const version = ifMatch ?? (await client.get<FlagView>(`/api/v1/flags/${key}`)).version;
  const res = await client.post<FlagView>(`/api/v1/flags/${key}/${action}`, body, { headers: { 'if-match': `"${version}"` } });
  ctx.out().result(res, describe);
}

export function register(program: Command, ctx: CliContext): void {
  const flags = program.command('flags').description('inspect flags, kill or revive them, set their rollout');

  apiCommand(flags, 'list', 'list flags in creation order (keyset pages)', { role: 'viewer', routes: ['GET /api/v1/flags'] })
    .option('--all', 'include archived flags')
    .option('--limit <n>', 'page size (max 500)', positiveInt, 100)
    .option('--cursor <id>', 'continue after this flag id')
    .action(async (o: { all?: boolean; limit: number; cursor?: string }) => {
      const res = await ctx.client().get<{ items: FlagView[]; nextCursor: string | null }>('/api/v1/flags', {
        query: { includeArchived: o.all ? 'true' : undefined, limit: o.limit, cursor: o.cursor },
      });
      ctx.out().result(res, (r) =>
        table(r.items, [
          { header: 'KEY', value: (f) => f.key },
          { header: 'STATE', value: (f) => (f.archivedAt ? 'archived' : f.killed ? 'KILLED' : 'live') },
          { header: 'ROLLOUT %', value: (f) => f.rolloutPercent, align: 'right' },
          { header: 'RULES', value: (f) => f.rules.length, align: 'right' },
          { header: 'VERSION', value: (f) => f.version, align: 'right' },
          { header: 'UPDATED', value: (f) => localTime(f.updatedAt) },
        ]) + (r.nextCursor ? `more: --cursor ${r.nextCursor}\n` : ''),
      );
    });

  apiCommand(flags, 'get', 'show one flag', { role: 'viewer', routes: ['GET /api/v1/flags/:key'] })
    .argument('<key>', 'flag key', flagKey)
    .action(async (key: string) => ctx.out().result(await ctx.client().get<FlagView>(`/api/v1/flags/${key}`), describe));

  for (const action of ['kill', 'revive'] as const) {
    const description = action === 'kill' ? 'kill switch: the flag answers its off variant everywhere (enabled users stay on)' : 'undo a kill';
    apiCommand(flags, action, description, { role: 'operator', routes: ['GET /api/v1/flags/:key', `POST /api/v1/flags/:key/${action}`] })
      .argument('<key>', 'flag key', flagKey)
      .requiredOption('--reason <reason>', 'why (recorded in the audit trail)')
      .option('--if-match <version>', 'only if the flag is still at this version', positiveInt)
      .action((key: string, o: { reason: string; ifMatch?: number }) => write(ctx, key, action, { reason: o.reason }, o.ifMatch));
  }

  apiCommand(flags, 'conversation', 'is the flag on for a conversation? on only when every participant is enabled, or in the rollout and capable', {
    role: 'viewer',
    routes: ['POST /api/v1/flags/:key/conversations/evaluate'],
  })
    .argument('<key>', 'flag key', flagKey)
    .argument('<participants...>', 'user ids (up to 32), each optionally with :capable', (v: string, prev: unknown[] | undefined) => participant(v, prev))
    .option('--id <conversationId>', 'the conversation id shown in the answer', 'cli')
    .action(async (key: string, participants: unknown[], o: { id: string }) => {
      const res = await ctx.client().post<ConversationAnswer>(`/api/v1/flags/${key}/conversations/evaluate`, { conversation: { id: o.id, participants } });
      ctx.out().result(res, describeConversation);
    });

  apiCommand(flags, 'set-rollout', 'set the fallthrough rollout (raising it only adds users)', {
    role: 'operator',
    routes: ['GET /api/v1/flags/:key', 'POST /api/v1/flags/:key/rollout'],
  })
    .argument('<key>', 'flag key', flagKey)
    .option('--percent <p>', 'percentage, up to 4 decimals', percent)
    .option('--ppm <n>', 'parts per million', ppm)
    .option('--reason <reason>', 'why (recorded in the audit trail)')
    .option('--if-match <version>', 'only if the flag is still at this version', positiveInt)
    .action(async (key: string, o: { percent?: number; ppm?: number; reason?: string; ifMatch?: number }) => {
      if ((o.percent === undefined) === (o.ppm === undefined)) throw new CliError('give exactly one of --percent or --ppm', EXIT.apiOrUsage, 'cli.usage');
      const body = { ...(o.ppm !== undefined ? { rolloutPpm: o.ppm } : { rolloutPercent: o.percent }), ...(o.reason ? { reason: o.reason } : {}) };
      await write(ctx, key, 'rollout', body, o.ifMatch);
    });
}
