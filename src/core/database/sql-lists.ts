/**
 * Bulk values through Prisma's `$queryRaw`, cheaply. Prisma's query compiler handles a bound
 * array element by element (≈ 5 µs each: 10 ms of CPU for one 2,000-id batch, more than
 * PostgreSQL spends on the update) and turns every result row into an object the same way.
 * The hot migration statements therefore pass ids as ONE text parameter in PostgreSQL's array
 * syntax (`${bigintList(ids)}::bigint[]`, ≈ 1 ms) and return aggregated text that
 * `parseRecords` splits (docs/benchmarks.md, "Benchmarks: migration").
 */

/** `{1,2,3}`: a bigint[] literal. Only digits and commas, so nothing needs quoting. */
export function bigintList(ids: readonly bigint[]): string {
  return `{${ids.join(',')}}`;
}

export function intList(values: readonly number[]): string {
  for (const v of values) if (!Number.isSafeInteger(v)) throw new RangeError(`not an integer: ${v}`);
  return `{${values.join(',')}}`;
}

/**
 * Splits `string_agg(a || ':' || b …, ',')` output: records separated by `,`, fields by `:`.
 * Only for numeric fields (they never contain either separator). `null` (no rows) → [].
 */
export function parseRecords(text: string | null): string[][] {
  if (!text) return [];
  return text.split(',').map((r) => r.split(':'));
}
