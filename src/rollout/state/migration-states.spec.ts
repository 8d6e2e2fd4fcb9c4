import { MigrationState as StoredMigrationState } from '../../generated/prisma/enums';
import { canMove, isFinal, MIGRATION_STATES, move, statesBefore, TRANSITIONS } from './migration-states';

describe('the migration state machine', () => {
  it('lists exactly the states the database enum holds, each once', () => {
    expect([...MIGRATION_STATES].sort()).toEqual(Object.values(StoredMigrationState).sort());
    expect(new Set(MIGRATION_STATES).size).toBe(MIGRATION_STATES.length);
  });

  it('has one final state, enabled: the ratchet', () => {
    expect(MIGRATION_STATES.filter(isFinal)).toEqual(['enabled']);
    for (const to of MIGRATION_STATES) expect(canMove('enabled', to)).toBe(false);
  });

  it('reaches every state from legacy, and enabled only through enrolling', () => {
    const reached = new Set<string>(['legacy']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const from of [...reached]) for (const to of TRANSITIONS[from as keyof typeof TRANSITIONS]) if (!reached.has(to)) grew = reached.add(to).size > 0;
    }
    expect([...reached].sort()).toEqual([...MIGRATION_STATES].sort());
    expect(statesBefore('enabled')).toEqual(['enrolling']);
  });

  it('holds only users not yet enrolling or enabled, and moves nobody to the state it is in', () => {
    expect(statesBefore('held')).toEqual(['legacy', 'ineligible', 'eligible', 'failed']);
    for (const s of MIGRATION_STATES) expect(canMove(s, s)).toBe(false);
  });
});

describe('move', () => {
  it('gives each declared state as an SQL literal', () => {
    const claim = move('claim', { legacy: ['enrolling', 'ineligible'] });
    expect(claim.from.legacy.sql).toBe("'legacy'");
    expect(claim.to.enrolling.sql).toBe("'enrolling'");
    expect(claim.to.ineligible.values).toEqual([]);
  });

  it('refuses a move that would break the ratchet or is not declared', () => {
    expect(() => move('undo', { enabled: ['eligible'] })).toThrow(/undo: enabled -> eligible is not an allowed move/);
    expect(() => move('hold an enrolling user', { enrolling: ['held'] })).toThrow(/enrolling -> held/);
    expect(() => move('skip the claim', { legacy: ['enabled'] })).toThrow(/legacy -> enabled/);
  });
});
