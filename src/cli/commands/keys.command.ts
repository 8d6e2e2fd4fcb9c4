import type { Command } from 'commander';
import { idArg, oneOf, positiveInt } from '../args';
import type { CliContext } from '../context';
import { localTime } from '../format';
import { keyValues, table } from '../output';
import { apiCommand } from '../needs';
import type { ApiSchema } from '../api-types';

const ROLES = ['viewer', 'operator', 'admin', 'evaluator', 'alerter'] as const;

type KeyView = ApiSchema<'ApiKey'>;

export function register(program: Command, ctx: CliContext): void {
  const keys = program.command('keys').description('manage API keys (needs an admin key)');

  apiCommand(keys, 'create', 'create a key; the secret is printed once and stored only hashed', { role: 'admin', routes: ['POST /api/v1/keys'] })
    .requiredOption('--name <name>', 'who or what uses the key')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, oneOf(ROLES))
    .action(async (o: { name: string; role: string }) => {
      const res = await ctx.client().post<{ key: string; apiKey: KeyView }>('/api/v1/keys', { name: o.name, role: o.role });
      ctx.out().result(res, (r) =>
        keyValues([['id', r.apiKey.id], ['name', r.apiKey.name], ['role', r.apiKey.role], ['key', r.key]]) +
        'Store the key now: it is not shown again.',
      );
    });

  apiCommand(keys, 'list', 'list keys, newest last (keyset pages)', { role: 'admin', routes: ['GET /api/v1/keys'] })
    .option('--all', 'include revoked keys')
    .option('--limit <n>', 'page size (max 500)', positiveInt, 100)
    .option('--cursor <id>', 'continue after this key id', idArg)
    .action(async (o: { all?: boolean; limit: number; cursor?: string }) => {
      const res = await ctx.client().get<{ items: KeyView[]; nextCursor: string | null }>('/api/v1/keys', {
        query: { includeRevoked: o.all ? 'true' : undefined, limit: o.limit, cursor: o.cursor },
      });
      ctx.out().result(res, (r) =>
        table(r.items, [
          { header: 'ID', value: (k) => k.id, align: 'right' },
          { header: 'NAME', value: (k) => k.name },
          { header: 'ROLE', value: (k) => k.role },
          { header: 'PREFIX', value: (k) => k.prefix },
          { header: 'CREATED', value: (k) => localTime(k.createdAt) },
          { header: 'LAST USED', value: (k) => localTime(k.lastUsedAt) },
          { header: 'REVOKED', value: (k) => localTime(k.revokedAt) },
        ]) + (r.nextCursor ? `more: --cursor ${r.nextCursor}\n` : ''),
      );
    });

  apiCommand(keys, 'revoke', 'revoke a key at once (idempotent); the last active admin key cannot be revoked', { role: 'admin', routes: ['POST /api/v1/keys/:id/revoke'] })
    .argument('<id>', 'key id', idArg)
    .option('--reason <reason>', 'why (recorded in the audit trail)')
    .option('--force', 'also when it is the key this command uses (ends your own access)')
    .action(async (id: string, o: { reason?: string; force?: boolean }) => {
      const body = { ...(o.reason ? { reason: o.reason } : {}), ...(o.force ? { force: true } : {}) };
      const res = await ctx.client().post<KeyView>(`/api/v1/keys/${id}/revoke`, body);
      ctx.out().result(res, (k) => `key ${k.id} (${k.name}) revoked at ${localTime(k.revokedAt) ?? '-'}`);
    });
}
