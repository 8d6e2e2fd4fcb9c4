import { Command, CommanderError } from 'commander';
import { createContext, type CliContext, type GlobalOptions } from './context';
import { CliError, EXIT } from './errors';
import { Output } from './output';
import * as campaigns from './commands/campaigns.command';
import * as explain from './commands/explain.command';
import * as flags from './commands/flags.command';
import * as keys from './commands/keys.command';
import * as users from './commands/users.command';
import * as webhooks from './commands/webhooks.command';

const GROUPS: ReadonlyArray<{ register(program: Command, ctx: CliContext): void }> = [
  keys,
  flags,
  campaigns,
  users,
  explain,
  webhooks,
];

export function buildProgram(): Command {
  const program = new Command('cutover')
    .description('Operate Cutover: users, keys, flags and campaigns over its HTTP API')
    .option('--url <url>', 'API base URL (env CUTOVER_URL, default http://127.0.0.1:3000)')
    .option('--key <key>', 'API key (env CUTOVER_API_KEY)')
    .option('--json', 'print machine-readable JSON instead of text')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const ctx = createContext(program);
  for (const group of GROUPS) group.register(program, ctx);
  return program;
}

/** Runs the CLI; resolves to the exit code instead of exiting, so output is flushed. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.apiOrUsage;
    const out = new Output(Boolean(program.opts<GlobalOptions>().json));
    if (err instanceof CliError) {
      out.error(err.message, { code: err.code, details: err.details });
      return err.exitCode;
    }
    out.error(`unexpected: ${(err as Error)?.stack ?? String(err)}`);
    return EXIT.apiOrUsage;
  }
}
