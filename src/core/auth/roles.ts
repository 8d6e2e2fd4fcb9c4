import type { Role } from './auth.types';

/**
 * Which roles satisfy a requirement. viewer < operator < admin for the admin API; the
 * evaluator role may only evaluate flags, and every other role may evaluate too.
 */
const SATISFIES: Record<Role, readonly Role[]> = {
  evaluator: ['evaluator', 'viewer', 'operator', 'admin'],
  viewer: ['viewer', 'operator', 'admin'],
  operator: ['operator', 'admin'],
  admin: ['admin'],
};

export function roleSatisfies(actual: Role, required: Role): boolean {
  return SATISFIES[required].includes(actual);
}

export function rolesAllowed(required: Role): readonly Role[] {
  return SATISFIES[required];
}
