import type { Command } from 'commander';
import { idArg } from '../args';
import type { CliContext } from '../context';
import { CliError, EXIT } from '../errors';
import { duration, localTime } from '../format';
import { formatInt, keyValues } from '../output';
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

/** GET /api/v1/campaigns/:id/explain */
export interface CampaignExplanation {
  campaign: string;
  campaignId: string;
  status: string;
  currentStep: number;
  nextStep: number | null;
  why: string;
  waiting: { reason: string; detail: string } | null;
  floors: Array<{ step: number; minCapablePercent: number; capablePercent: number | null; capable: number; users: number; met: boolean; forecast: { etaSeconds: number | null } }>;
  completion: { auto: boolean };
}

export function campaignExplanationText(e: CampaignExplanation): string {
  const floors = e.floors.map((f) => {
    const share = f.capablePercent === null ? '-' : `${f.capablePercent.toFixed(1)}%`;
    const when = f.met ? 'met' : f.forecast.etaSeconds === null ? 'not met, no forecast' : `not met, in ~${duration(f.forecast.etaSeconds)}`;
    return [`floor of step ${f.step + 1}`, `≥ ${f.minCapablePercent}% capable: ${share} (${formatInt(f.capable)} of ${formatInt(f.users)}), ${when}`] as [string, string];
  });
  return `${e.why}\n\n${keyValues([
    ['campaign', `${e.campaign} (id ${e.campaignId}, ${e.status})`],
    ['current step', e.currentStep >= 0 ? String(e.currentStep + 1) : 'ramp not started'],
    ['waiting', e.waiting ? `${e.waiting.reason}: ${e.waiting.detail}` : null],
    ...floors,
    ['auto-complete', e.completion.auto ? 'on' : 'off'],
  ])}`;
}

function campaignRef(value: string): string {
  if (!/^[a-z0-9][a-z0-9._-]{0,127}$/.test(value)) throw new CliError(`not a campaign id or key: ${value}`, EXIT.apiOrUsage, 'cli.usage');
  return value;
}

/**
 * `cutover users explain <campaign> <userId>`: why this user is (not) encrypted; `cutover
 * campaign explain <id>`: why the campaign is (not) moving. Adds to the `users` and `campaign` groups.
 */
export function register(program: Command, ctx: CliContext): void {
  const campaign = program.commands.find((c) => c.name() === 'campaign') ?? program.command('campaign').description('watch and operate one campaign (by id or key)');
  apiCommand(campaign, 'explain', 'why a campaign is (not) moving: the ramp\'s reason to wait, which capability floor holds a step and when it will be met, completion', {
    role: 'viewer',
    routes: ['GET /api/v1/campaigns/:id/explain'],
  })
    .argument('<id>', 'campaign id or key', campaignRef)
    .action(async (ref: string) => {
      const e = await ctx.client().get<CampaignExplanation>(`/api/v1/campaigns/${encodeURIComponent(ref)}/explain`);
      ctx.out().result(e, campaignExplanationText);
    });


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
