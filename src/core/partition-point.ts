/**
 * Binary search in its one general form: the first index in 0..length at which `before` turns
 * false, for a `before` that is true for a prefix of the indexes and false for the rest (a
 * sorted array asked "is element i below the target?"). O(log length) calls of `before`. The
 * same as Rust's `slice::partition_point`; a lower bound, an upper bound and a sample from
 * cumulative weights are all this with their own predicate.
 */
export function partitionPoint(length: number, before: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (before(middle)) low = middle + 1;
    else high = middle;
  }
  return low;
}
