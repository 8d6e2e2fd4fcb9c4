import { z, type ZodType } from 'zod';

/** Shapes that recur in the answers of the admin API (documentation of what the API sends). */
export const idString = z.string().regex(/^[0-9]+$/).meta({ description: '64-bit id as decimal digits', example: '42' });
export const dateTime = z.iso.datetime();
export const nullableDateTime = dateTime.nullable();

/** A keyset page: `nextCursor` is passed back as `?cursor=` for the next page, null at the end. */
export function pageOf(item: ZodType) {
  return z.object({ items: z.array(item), nextCursor: idString.nullable() });
}
