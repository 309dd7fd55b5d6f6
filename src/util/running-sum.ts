/**
 * A running count and sum of durations, as a source keeps them (a node link's answered requests
 * and their service times, perf_hooks' event-loop delay samples), and the mean of what was added
 * between two readings of it.
 */

/** How many durations were counted, and their sum in ms, since the source began. */
export interface RunningSum {
  readonly count: number;
  readonly sumMs: number;
}

/**
 * The mean (ms) of what was counted between `seen` and `now`, two readings of one running sum,
 * moving `seen` to `now`; null when nothing was counted since (or `now` is null: no reading).
 */
export function meanSince(
  seen: { count: number; sumMs: number },
  now: RunningSum | null,
): number | null {
  if (now === null || !(now.count > seen.count)) return null;
  const meanMs = (now.sumMs - seen.sumMs) / (now.count - seen.count);
  seen.count = now.count;
  seen.sumMs = now.sumMs;
  return Math.max(0, meanMs);
}
