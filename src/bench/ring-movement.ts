/**
 * How much of the key space a membership change moved, from the rings before and after: the
 * fraction of keys whose preference list (as a set of N nodes) changed, and the fraction whose
 * primary (first node of the list) changed. For `npm run bench:rebalance`.
 */
import { assert } from '../core/assert.js';
import type { Ring } from '../core/ring.js';

export interface RingMovement {
  /** Keys looked at. */
  readonly keys: number;
  /** Fraction (0..1) of keys whose set of N replicas changed. */
  readonly preferenceChanged: number;
  /** Fraction (0..1) of keys whose primary replica changed. */
  readonly primaryChanged: number;
}

export function ringMovement(
  before: Ring,
  after: Ring,
  keys: readonly string[],
  n: number,
): RingMovement {
  assert(before.partitionCount === after.partitionCount, 'rings of the same partition count');
  assert(keys.length > 0, 'at least one key');
  // Keys of one partition share their lists: compare per partition, then count keys.
  const changed = new Map<number, { prefs: boolean; primary: boolean }>();
  let prefsChanged = 0;
  let primaryChanged = 0;
  for (const key of keys) {
    const partition = before.partitionOf(key);
    let verdict = changed.get(partition);
    if (verdict === undefined) {
      const was = before.preferenceListForPartition(partition, n);
      const is = after.preferenceListForPartition(partition, n);
      const prefs = was.length !== is.length || was.some((node) => !is.includes(node));
      verdict = { prefs, primary: was[0] !== is[0] };
      changed.set(partition, verdict);
    }
    if (verdict.prefs) prefsChanged++;
    if (verdict.primary) primaryChanged++;
  }
  return {
    keys: keys.length,
    preferenceChanged: prefsChanged / keys.length,
    primaryChanged: primaryChanged / keys.length,
  };
}
