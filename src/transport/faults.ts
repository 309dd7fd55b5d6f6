/**
 * Injected network faults for a node's outgoing and incoming peer traffic: a partition (peers
 * this node cannot talk to, either way), uniform loss, and a delay with uniform jitter. The
 * serialisable part (`NetworkFaults`) crosses the launcher's control channel; `delayFor` is a
 * hook for in-thread callers (per-message-class delays) and never leaves the thread.
 */
import type { PeerMessage } from '../core/messages.js';
import type { NodeId } from '../core/types.js';

/** Longest injected delay (base or jitter); longer is almost always a typo. */
export const FAULT_DELAY_MS_MAX = 60_000;

/** Messages waiting out an injected delay at once, per transport; past it they are dropped. */
export const DELAYED_MESSAGES_MAX = 100_000;

export interface NetworkFaults {
  /** Peers cut off in both directions: sends to them and messages from them are dropped. */
  readonly blockedPeers: readonly string[];
  /** Added to every outgoing message (0..FAULT_DELAY_MS_MAX). @default 0 */
  readonly delayMs: number;
  /** Plus a uniform random extra delay in [0, jitterMs) (0..FAULT_DELAY_MS_MAX). @default 0 */
  readonly jitterMs: number;
  /** Probability that an outgoing message is dropped (0..1). @default 0 */
  readonly lossRate: number;
}

export interface TransportFaults extends NetworkFaults {
  /**
   * The base delay of one message, replacing `delayMs` when given (jitter is still added). A
   * result that is not a finite non-negative number counts as 0; larger than
   * FAULT_DELAY_MS_MAX counts as that. It must not throw; a throw counts as 0 too.
   */
  readonly delayFor?: (message: PeerMessage, to: NodeId) => number;
}

export const NO_FAULTS: NetworkFaults = Object.freeze({
  blockedPeers: [],
  delayMs: 0,
  jitterMs: 0,
  lossRate: 0,
});

/** True when `faults` change nothing, so the transport can take its untouched fast path. */
export function isFaultFree(faults: TransportFaults): boolean {
  return (
    faults.blockedPeers.length === 0 &&
    faults.delayMs === 0 &&
    faults.jitterMs === 0 &&
    faults.lossRate === 0 &&
    faults.delayFor === undefined
  );
}

/** Why a set of faults is invalid, or null when it is valid. */
export function faultsProblem(faults: NetworkFaults): string | null {
  const delay = (name: string, value: number): string | null =>
    Number.isFinite(value) && value >= 0 && value <= FAULT_DELAY_MS_MAX
      ? null
      : `${name} must be a number in 0..${FAULT_DELAY_MS_MAX}, got ${String(value)}`;
  if (!Array.isArray(faults.blockedPeers)) return 'blockedPeers must be an array';
  if (faults.blockedPeers.some((peer) => typeof peer !== 'string')) {
    return 'blockedPeers must hold node ids (strings)';
  }
  const { lossRate } = faults;
  if (!(Number.isFinite(lossRate) && lossRate >= 0 && lossRate <= 1)) {
    return `lossRate must be a number in 0..1, got ${String(lossRate)}`;
  }
  return delay('delayMs', faults.delayMs) ?? delay('jitterMs', faults.jitterMs);
}

/** Clamps a hook's answer into 0..FAULT_DELAY_MS_MAX; anything unusable is 0. */
export function clampDelayMs(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(value, FAULT_DELAY_MS_MAX);
}
