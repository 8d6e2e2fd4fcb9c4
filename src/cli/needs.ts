import type { Command } from 'commander';
import { rolesAllowed } from '../core/auth/roles';

/** The least key role a command needs: the strictest @Roles of the API routes it calls. */
export type KeyRole = 'viewer' | 'operator' | 'admin';

export interface CommandNeeds {
  role: KeyRole;
  /** "METHOD /path" exactly as the API registers each route the command calls */
  routes: readonly string[];
}

/** "a viewer, operator or admin key": every role that satisfies `role`. */
function whoMay(role: KeyRole): string {
  const roles = rolesAllowed(role);
  const list = roles.length === 1 ? roles[0] : `${roles.slice(0, -1).join(', ')} or ${roles[roles.length - 1]}`;
  return `${/^[aeiou]/.test(list) ? 'an' : 'a'} ${list} key`;
}

const needsOf = new WeakMap<Command, CommandNeeds>();

/**
 * Adds a subcommand whose help says which key it needs. The routes are recorded so that a
 * test can hold the stated role against the API's own role table.
 */
export function apiCommand(parent: Command, name: string, description: string, needs: CommandNeeds): Command {
  const cmd = parent.command(name).description(`${description} (needs ${whoMay(needs.role)})`);
  needsOf.set(cmd, needs);
  return cmd;
}

export function commandNeeds(cmd: Command): CommandNeeds | undefined {
  return needsOf.get(cmd);
}
