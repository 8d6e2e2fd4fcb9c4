import { Prisma } from '../../generated/prisma/client';
import type { MigrationState as StoredMigrationState } from '../../generated/prisma/enums';

/**
 * A user's migration state in one campaign, in display order (counters, progress, CLI, the
 * dashboard through the progress API). The database enum `migration_state` holds the same
 * names; the two checks below fail to compile when either side gains a state.
 */
export const MIGRATION_STATES = ['legacy', 'ineligible', 'eligible', 'enrolling', 'enabled', 'failed', 'held'] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

const everyListedStateIsStored: readonly StoredMigrationState[] = MIGRATION_STATES;
const everyStoredStateIsListed: Record<StoredMigrationState, MigrationState> = { legacy: 'legacy', ineligible: 'ineligible', eligible: 'eligible', enrolling: 'enrolling', enabled: 'enabled', failed: 'failed', held: 'held' };
void everyListedStateIsStored;
void everyStoredStateIsListed;

/**
 * The moves a user's row may make, and who makes them. `enabled` is final (the ratchet): no
 * move leaves it, so no operator action, halt, hold or ramp step-back ever takes a user's
 * encryption away. `held` is reachable only from a state before `enrolling`/`enabled`.
 */
export const TRANSITIONS: { readonly [S in MigrationState]: readonly MigrationState[] } = {
  // opt-in (eligible or ineligible), the ramp's range claim (enrolling or ineligible), a hold
  legacy: ['eligible', 'ineligible', 'enrolling', 'held'],
  // opt-in or reassess once capable, a ramp step back below the user's bucket, a hold
  ineligible: ['eligible', 'legacy', 'held'],
  // the claim of a batch, reassess when no longer capable, a ramp step back, a hold
  eligible: ['enrolling', 'ineligible', 'legacy', 'held'],
  // the batch's outcome (enabled, failed, or eligible to retry), the reaper (eligible)
  enrolling: ['enabled', 'failed', 'eligible'],
  enabled: [],
  // retry-failed, a hold
  failed: ['eligible', 'held'],
  // release: admitted again (eligible or ineligible) or back to legacy when the ramp has not reached them
  held: ['eligible', 'ineligible', 'legacy'],
};

export function canMove(from: MigrationState, to: MigrationState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The ratchet: a state no move leaves. */
export function isFinal(state: MigrationState): boolean {
  return TRANSITIONS[state].length === 0;
}

/** The states a move can lead to `to` from. */
export function statesBefore(to: MigrationState): MigrationState[] {
  return MIGRATION_STATES.filter((s) => canMove(s, to));
}

/**
 * A state as an SQL literal (`'enrolling'`), inlined into the statement's text rather than
 * bound, so that each statement's text, and so the planner's choices, stay what they were.
 */
export const STATE_SQL = Object.fromEntries(MIGRATION_STATES.map((s) => [s, Prisma.raw(`'${s}'`)])) as { readonly [S in MigrationState]: Prisma.Sql };

export interface Move<F extends MigrationState, T extends MigrationState> {
  readonly name: string;
  /** the states the statement compares with (compare-and-set), as SQL literals */
  readonly from: { readonly [S in F]: Prisma.Sql };
  /** the states the statement writes, as SQL literals */
  readonly to: { readonly [S in T]: Prisma.Sql };
}

/**
 * Declares one statement's moves, `{ from: [to, …] }`. Every statement that writes a user's
 * state takes its state literals from a Move declared at module load, and this throws when a
 * move is not in TRANSITIONS, so a statement that would break the ratchet cannot be loaded.
 */
export function move<const M extends { readonly [S in MigrationState]?: readonly MigrationState[] }>(
  name: string,
  moves: M,
): Move<Extract<keyof M, MigrationState>, M[keyof M] extends readonly (infer T)[] | undefined ? Extract<T, MigrationState> : never> {
  const from: Record<string, Prisma.Sql> = {};
  const to: Record<string, Prisma.Sql> = {};
  for (const [f, targets] of Object.entries(moves) as Array<[MigrationState, readonly MigrationState[]]>) {
    from[f] = STATE_SQL[f];
    for (const t of targets) {
      if (!canMove(f, t)) throw new Error(`${name}: ${f} -> ${t} is not an allowed move of a user's migration state`);
      to[t] = STATE_SQL[t];
    }
  }
  return { name, from, to } as never;
}
