import 'reflect-metadata';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommanderError } from 'commander';
import { chmod, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { loadConfigOrExit } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { AuditModule } from '../core/audit/audit.module';
import { ApiKeysService } from '../core/auth/api-keys.service';
import { ApiKeysModule } from '../core/auth/auth.module';
import type { Actor } from '../core/auth/auth.types';
import { Clock, SystemClock } from '../core/clock/clock';
import { DatabaseModule } from '../core/database/database.module';
import { EXIT } from './errors';
import { Output } from './output';

/**
 * `cutover-admin`: what an operator does from a machine that can reach the database, not
 * through the API. `mint-admin-key` is the way back in when no admin key works any more (the
 * last one lost or revoked): it needs the API's environment (DATABASE_URL, REDIS_URL), which
 * only someone with access to the machines or the cluster has. Audited with actor `machine`.
 */

@Global()
@Module({ providers: [{ provide: Clock, useClass: SystemClock }], exports: [Clock] })
class ClockModule {}

export function machineActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry for this uid (a container): the host name still says where */
  }
  return { id: 'machine', name: `cutover-admin ${user}@${hostname()}`, role: 'system' };
}

interface MintOptions {
  reason: string;
  name: string;
  out?: string;
}

async function mintAdminKey(o: MintOptions, out: Output): Promise<void> {
  const config = loadConfigOrExit();
  @Module({ imports: [ConfigModule.forRoot(config), ClockModule, DatabaseModule, AuditModule, ApiKeysModule] })
  class RecoveryModule {}
  const app = await NestFactory.createApplicationContext(RecoveryModule, { logger: ['error'] });
  try {
    const { key, apiKey } = await app.get(ApiKeysService).create({ name: o.name, role: 'admin' }, machineActor(), o.reason);
    if (o.out) {
      await writeFile(o.out, `${key}\n`, { mode: 0o600 });
      await chmod(o.out, 0o600);
    }
    const shown = o.out ? { id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix, file: o.out } : { id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix, key };
    out.result(shown, () =>
      o.out ? `admin key ${apiKey.id} (prefix ${apiKey.prefix}) written to ${o.out} (mode 0600)` : `${key}\nadmin key ${apiKey.id} (prefix ${apiKey.prefix}); store it now, it is not shown again`,
    );
  } finally {
    await app.close();
  }
}

export function buildAdminProgram(out: () => Output): Command {
  const program = new Command('cutover-admin')
    .description("Machine-side operations on Cutover's database (needs DATABASE_URL and REDIS_URL, as the API)")
    .option('--json', 'print machine-readable JSON instead of text')
    .exitOverride();
  program
    .command('mint-admin-key')
    .description('create a new admin API key directly in the database (recovery when no admin key works); audited with actor "machine"')
    .requiredOption('--reason <why>', 'why (recorded in the audit trail)')
    .option('--name <name>', 'name of the new key', 'recovered admin')
    .option('--out <file>', 'write the key to this file (mode 0600) instead of printing it')
    .action((o: MintOptions) => mintAdminKey(o, out()));
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let output: Output | undefined;
  const program = buildAdminProgram(() => (output ??= new Output(Boolean(program.opts<{ json?: boolean }>().json))));
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.apiOrUsage;
    (output ?? new Output(false)).error(`could not mint the key: ${(err as Error)?.message ?? String(err)}`);
    return EXIT.apiOrUsage;
  }
}
