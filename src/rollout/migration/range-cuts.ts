export interface BucketRange {
  from: number;
  to: number;
}

/**
 * Cuts [from, admitted) into contiguous batch ranges. `starts` are the buckets of every
 * `batchSize`-th legacy user from `from` on, in bucket order (the first legacy user, the
 * (batchSize+1)-th, …); `more` says that legacy users remain after the last start, which
 * then only bounds the last range (its batch is for the next round). Buckets are never
 * split, so a range holds at least one whole bucket. No starts: nobody is left to admit and
 * there is no range (the planner moves its ceiling to `admitted` without a batch).
 */
export function cutRanges(from: number, admitted: number, starts: readonly number[], more: boolean): BucketRange[] {
  if (starts.length === 0 || from >= admitted) return [];
  // a cut must fall after the first bucket of the batch it closes, or that batch is empty
  const bounds = [from];
  let batchStart = starts[0];
  for (const b of starts.slice(1)) {
    if (b > batchStart && b < admitted) {
      bounds.push(b);
      batchStart = b;
    }
  }
  const ranges: BucketRange[] = [];
  for (let i = 1; i < bounds.length; i++) ranges.push({ from: bounds[i - 1], to: bounds[i] });
  if (!more) ranges.push({ from: bounds[bounds.length - 1], to: admitted });
  else if (ranges.length === 0) ranges.push({ from, to: Math.min(Math.max(starts[0], from) + 1, admitted) });
  return ranges;
}
