import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main';
import { commandNeeds } from '../../src/cli/needs';
import { rolesAllowed } from '../../src/core/auth/roles';
import { ROUTE_REQUIREMENTS } from '../e2e/security.helpers';

const RANK = { public: 0, evaluator: 1, viewer: 2, operator: 3, admin: 4 } as const;

function leaves(cmd: Command, path: string[] = []): Array<{ name: string; cmd: Command }> {
  if (cmd.commands.length === 0) return [{ name: path.join(' '), cmd }];
  return cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

/**
 * The role each CLI command's help states is the strictest role of the API routes it calls,
 * as written in the role table that the role-matrix e2e test holds the running API to.
 */
describe('CLI help states the key each command needs', () => {
  const commands = leaves(buildProgram());

  it.each(commands.map((c) => [c.name, c.cmd] as const))('%s', (_name, cmd) => {
    const needs = commandNeeds(cmd);
    expect(needs).toBeDefined();
    const required = needs!.routes.map((r) => ROUTE_REQUIREMENTS[r] ?? `unknown route ${r}`);
    const strictest = required.reduce((a, b) => (RANK[b as keyof typeof RANK] > RANK[a as keyof typeof RANK] ? b : a));
    expect(needs!.role).toBe(strictest);
    const stated = /\(needs an? ([a-z, ]+) key\)$/.exec(cmd.description())?.[1].split(/, | or /);
    expect(stated).toEqual([...rolesAllowed(needs!.role)]);
  });

  it('covers every command group', () => {
    expect(commands.map((c) => c.name).sort()).toEqual([
      'campaign approve', 'campaign complete', 'campaign explain', 'campaign guardrails', 'campaign halt', 'campaign pause', 'campaign progress', 'campaign promote', 'campaign resume',
      'campaign set-guardrails', 'campaign start', 'campaign watch',
      'campaigns list',
      'flags conversation', 'flags get', 'flags kill', 'flags list', 'flags revive', 'flags set-rollout',
      'keys create', 'keys list', 'keys revoke',
      'users explain', 'users get', 'users import', 'users seed', 'users update',
      'webhooks create', 'webhooks delete', 'webhooks deliveries', 'webhooks list',
    ]);
  });

  it('says that approving a ramp step needs an admin key', () => {
    const help = commands.find((c) => c.name === 'campaign approve')!.cmd.helpInformation().replace(/\s+/g, ' ');
    expect(help).toContain('(needs an admin key)');
    expect(help).not.toContain('operator');
  });
});
