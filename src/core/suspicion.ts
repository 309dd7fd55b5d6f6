/**
 * SWIM suspicion maths with Lifeguard's dynamic timeout, as pure functions (after
 * hashicorp/memberlist `suspicion.go` and `util.go`). No clocks: callers pass counts and
 * intervals and get milliseconds back.
 *
 *   nodeScale = max(1, log10(max(1, n)))
 *   min       = suspicionMult × nodeScale × probeIntervalMs
 *   max       = suspicionMaxTimeoutMult × min
 *   timeout   = max − (max − min) × log(c + 1) / log(k + 1),  clamped to [min, max]
 *
 * where c is the number of independent confirmations received so far and k the number
 * expected. A fresh suspicion waits `max`; each independent accuser shortens the wait towards
 * `min`, so a real failure is confirmed quickly while a lone (perhaps lossy) accuser waits long
 * enough for the suspect to refute.
 */
import { assert } from './assert.js';

export interface SuspicionParams {
  /** Cluster size as this node sees it (members not dead or left, including itself). */
  readonly nodes: number;
  readonly probeIntervalMs: number;
  /** memberlist default 4: suspect for 4 × log10(n) × probe interval at least. */
  readonly suspicionMult: number;
  /** memberlist default 6: a lone accuser waits 6 × the minimum. */
  readonly suspicionMaxTimeoutMult: number;
  /** Independent confirmations received so far (c). */
  readonly confirmations: number;
  /** Independent confirmations expected (k); see `confirmationsExpected`. */
  readonly confirmationsExpected: number;
}

/** memberlist's node scale: max(1, log10(max(1, n))) — grows slowly so big clusters wait a bit longer. */
export function nodeScale(nodes: number): number {
  assert(Number.isInteger(nodes) && nodes >= 0, `node count ${nodes} is a natural number`);
  return Math.max(1, Math.log10(Math.max(1, nodes)));
}

/** min = suspicionMult × max(1, log10(n)) × probeIntervalMs. */
export function suspicionTimeoutMsMin(
  nodes: number,
  probeIntervalMs: number,
  suspicionMult: number,
): number {
  assert(probeIntervalMs > 0, 'probe interval is positive');
  assert(suspicionMult > 0, 'suspicion multiplier is positive');
  return suspicionMult * nodeScale(nodes) * probeIntervalMs;
}

/**
 * k, the confirmations a suspicion expects: memberlist uses suspicionMult − 2, or 0 when fewer
 * than k other members (n − 2: neither the suspect nor this node) could confirm.
 */
export function confirmationsExpected(nodes: number, suspicionMult: number): number {
  const k = Math.max(0, Math.floor(suspicionMult) - 2);
  return nodes - 2 < k ? 0 : k;
}

/** The suspicion timeout in whole milliseconds, measured from when the suspicion started. */
export function suspicionTimeoutMs(p: SuspicionParams): number {
  assert(p.suspicionMaxTimeoutMult >= 1, 'max timeout multiplier is at least 1');
  assert(p.confirmations >= 0 && p.confirmationsExpected >= 0, 'confirmation counts are >= 0');
  const min = suspicionTimeoutMsMin(p.nodes, p.probeIntervalMs, p.suspicionMult);
  const max = p.suspicionMaxTimeoutMult * min;
  if (p.confirmationsExpected < 1) return Math.floor(min);
  const c = Math.min(p.confirmations, p.confirmationsExpected);
  const frac = Math.log(c + 1) / Math.log(p.confirmationsExpected + 1);
  const raw = Math.max(min, max - frac * (max - min));
  const out = Math.floor(raw);
  assert(out >= Math.floor(min) && out <= max, 'timeout lies in [min, max]');
  return out;
}
