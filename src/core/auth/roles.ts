import type { Role } from './auth.types';

/**
 * Which roles satisfy a requirement. viewer < operator < admin for the admin API; the
 * evaluator role may only evaluate flags, and every admin-API role may evaluate too. The
 * alerter role may only post alerts (which pause or halt campaigns, as an operator may).
 */
const SATISFIES: Record<Role, readonly Role[]> = {
  evaluator: ['evaluator', 'viewer', 'operator', 'admin'],
  alerter: ['alerter', 'operator', 'admin'],
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
