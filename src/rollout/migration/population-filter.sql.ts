import { Prisma } from '../../generated/prisma/client';
import type { PopulationFilter } from '../campaigns/campaigns.types';

/** SQL condition on `users u` for a campaign's population filter (empty = everyone). */
export function populationWhere(f: PopulationFilter): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`TRUE`];
  if (f.countries?.length) parts.push(Prisma.sql`u.country = ANY(${f.countries}::text[])`);
  if (f.platforms?.length) parts.push(Prisma.sql`u.platform = ANY(${f.platforms}::text[])`);
  if (f.attributes && Object.keys(f.attributes).length > 0) parts.push(Prisma.sql`u.attributes @> ${JSON.stringify(f.attributes)}::jsonb`);
  return Prisma.join(parts, ' AND ');
}
