import type { Command } from 'commander';
import { idArg } from '../args';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { localTime } from '../format';
import { keyValues } from '../output';
import { apiCommand } from '../needs';
import type { ApiSchema } from '../api-types';

export type Explanation = ApiSchema<'UserExplanation'>;

const pct = (ppm: number) => `${(ppm / 10_000).toFixed(ppm % 10_000 === 0 ? 0 : 2)}%`;

export function explanationText(e: Explanation): string {
  const a = e.admission;
  return (
    `${e.why}\n\n` +
    keyValues([
      ['user', e.userId],
      ['campaign', `${e.campaign} (id ${e.campaignId}, ${a.campaignStatus})`],
      ['state', e.state ?? 'not materialised'],
      ['bucket', `${e.bucket} ppm`],
      ['current step', a.currentStep >= 0 ? `step ${a.currentStep + 1} (${pct(a.currentStepPpm)})` : 'ramp not started'],
      ['admitted now', `${e.admittedByCurrentStep ? 'yes' : 'no'} (flag ${a.flag.key} v${a.flag.version} at ${pct(a.flag.rolloutPpm)}${a.flag.killed ? ', KILLED' : ''})`],
      ['first step admitting', a.firstStepAdmitting === null ? null : `step ${a.firstStepAdmitting + 1}`],
      ['enrolled via', e.enrolledBy],
      ['flag version', e.flagVersion],
      ['attempts', e.attempts],
      ['last error', e.lastError],
      ['hold', e.hold ? `${e.hold.id}: ${e.hold.reason}` : null],
      ['admitted at', localTime(e.admittedAt)],
      ['enabled at', localTime(e.enabledAt)],
      ['recovery', e.recoveryMethod ? `${e.recoveryState} (${e.recoveryMethod})` : e.recoveryState],
      ['updated at', localTime(e.updatedAt)],
    ])
  );
}

function campaignRef(value: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(value)) throw new CliError(`not a campaign id or key: ${value}`, EXIT.apiOrUsage, 'cli.usage');
  return value;
}

/** `cutover users explain <campaign> <userId>`: why this user is (not) encrypted. Adds to the `users` group. */
export function register(program: Command, ctx: CliContext): void {
  const users = program.commands.find((c) => c.name() === 'users') ?? program.command('users').description('the population');
  apiCommand(users, 'explain', 'why a user is (or is not) encrypted in a campaign: bucket, step, state, attempts, last error, hold', {
    role: 'viewer',
    routes: ['GET /api/v1/campaigns/:id/users/:userId'],
  })
    .argument('<campaign>', 'campaign id or key', campaignRef)
    .argument('<userId>', 'user id', idArg)
    .action(async (campaign: string, userId: string) => {
      const e = await ctx.client().get<Explanation>(`/api/v1/campaigns/${encodeURIComponent(campaign)}/users/${userId}`);
      ctx.out().result(e, explanationText);
    });
}
