/**
 * When and how long to wait before retrying a failed request: exponential backoff with full
 * jitter ("Exponential Backoff and Jitter", AWS architecture blog), within a bounded budget of
 * attempts. Pure: the caller supplies the random number, so the embedded client (real time,
 * Math.random) and the simulator (virtual time, seeded PRNG) share it.
 */
import type { RingkvError } from '../errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included; 1 disables retries. */
  readonly attemptsMax: number;
  /** Upper bound of the first retry's delay. */
  readonly delayBaseMs: number;
  /** No delay exceeds this. */
  readonly delayMaxMs: number;
}

/** Retry only what may succeed on another try: never bad input or a closed cluster. */
export function isRetryable(error: RingkvError): boolean {
  return error.code === 'QUORUM' || error.code === 'TIMEOUT' || error.code === 'OVERLOAD';
}

/**
 * The delay before attempt `attempt` (2 for the first retry), or null when the budget is
 * spent. `random01` is a uniform number in [0, 1).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random01: number,
): number | null {
  if (attempt > policy.attemptsMax) return null;
  const ceiling = Math.min(policy.delayMaxMs, policy.delayBaseMs * 2 ** (attempt - 2));
  return Math.floor(random01 * ceiling);
}
