/**
 * The client's decisions, pure and synchronous: which node coordinates a request, when a
 * request's deadline falls, how much of it an attempt may spend, and whether (and after how
 * long) a failed attempt is retried. No clock and no randomness of its own: callers pass the
 * time and a random source, so the embedded client (Date.now, Math.random, Promises) and the
 * simulator (virtual time, its seeded Prng, its event queue) run the same decisions and only
 * wait differently.
 */
import { assert } from '../core/assert.js';
import type { Ring } from '../core/ring.js';
import type { NodeId } from '../core/types.js';
import type { RingkvError } from '../errors.js';
import { isRetryable, type RetryPolicy, retryDelayMs } from './retry.js';

/** What routing needs to know: the client's ring copy and who is up. */
export interface RouteView {
  /** The last committed ring the client knows. */
  readonly ring: Ring;
  /** Replicas per key. */
  readonly n: number;
  /** Every node of the cluster, running or not, in order of creation. */
  readonly nodeIds: readonly string[];
  isUp(node: string): boolean;
}

/**
 * The coordinator for `key`: `preferred` when it is up, else the first live node of the key's
 * preference list (client-side coordination, the Dynamo paper's faster mode), else any live
 * node (it forwards to a replica). Null when no node is up.
 */
export function pickCoordinator(
  view: RouteView,
  key: string,
  preferred: string | null = null,
): NodeId | null {
  if (preferred !== null && view.isUp(preferred)) return preferred as NodeId;
  // Plain loops, no closure: this runs for every request.
  for (const replica of view.ring.preferenceList(key, view.n)) {
    if (view.isUp(replica)) return replica;
  }
  for (const id of view.nodeIds) {
    if (view.isUp(id)) return id as NodeId;
  }
  return null;
}

/**
 * The deadline of one user request: `timeoutMs` after `startMs`, in the caller's clock. Kept as
 * start and length (not their float sum) so the first attempt's budget is exactly `timeoutMs`.
 */
export interface Deadline {
  readonly startMs: number;
  readonly timeoutMs: number;
}

/**
 * Makes the deadline of a user request that starts at `nowMs`.
 *
 * The rule (gRPC's deadline propagation): a request has ONE absolute deadline, made once when
 * the user's call starts. It bounds every attempt and every wait between attempts. Each attempt
 * tells its coordinator only the time left (`attemptBudgetMs`, relative ms), so no node depends
 * on clocks being in sync. The client waits for an attempt's answer at most its slack past the
 * deadline: the time a coordinator needs to send its own timeout answer back.
 */
export function deadlineOf(nowMs: number, timeoutMs: number): Deadline {
  assert(Number.isFinite(nowMs), 'the clock reads a finite time');
  assert(Number.isFinite(timeoutMs) && timeoutMs > 0, 'a request timeout is positive');
  return { startMs: nowMs, timeoutMs };
}

/** Whole milliseconds an attempt starting at `nowMs` may spend; 0 once the deadline passed. */
export function attemptBudgetMs(deadline: Deadline, nowMs: number): number {
  assert(nowMs >= deadline.startMs, 'an attempt starts after its request');
  return Math.max(0, Math.floor(deadline.timeoutMs - (nowMs - deadline.startMs)));
}

/**
 * After attempt `attempts` failed with `error` at `nowMs`: the delay before the next attempt,
 * or null when the request ends with `error` — not retryable (bad input, a closed cluster), the
 * attempt budget spent, or no whole millisecond of the deadline left after the delay.
 *
 * `random01` is called once exactly when the error is retryable, before the budget checks, so a
 * seeded caller draws the same sequence whatever the clock says.
 */
export function retryAfterMs(
  policy: RetryPolicy,
  error: RingkvError,
  attempts: number,
  random01: () => number,
  nowMs: number,
  deadline: Deadline,
): number | null {
  assert(attempts >= 1, 'a retry follows an attempt');
  if (!isRetryable(error)) return null;
  const delayMs = retryDelayMs(policy, attempts + 1, random01());
  if (delayMs === null) return null;
  assert(delayMs >= 0 && delayMs <= policy.delayMaxMs, 'a retry delay is within its bounds');
  return attemptBudgetMs(deadline, nowMs + delayMs) >= 1 ? delayMs : null;
}
