/**
 * Tombstone reaping, coordinator side. A key whose every primary answered a get with the same
 * tombstones becomes a candidate; after `graceMs` the reaper asks EVERY node of the ring whether
 * the key may go (reap-check), and only if all answer ok within `graceMs` does it tell the
 * primaries to remove it (reap). Asking every node matters: a stand-in may still hold a hint
 * with an older version for a primary, and a node may still coordinate a write to the key;
 * either would bring a reaped value back (found by the simulator, seeds 1547 and 2539).
 *
 * What the check cannot see is a message still in flight from before it: the grace period must
 * exceed the longest a message can be delayed. Bounds: one pending reap per key, at most
 * REAPS_PENDING_MAX in all (more candidates are simply not reaped now; a later read re-arms).
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import type { Dot, NodeId } from './types.js';

const REAPS_PENDING_MAX = 10_000;

interface Candidate {
  readonly key: string;
  readonly dots: readonly Dot[];
  readonly primaries: readonly NodeId[];
}

interface Check extends Candidate {
  readonly waiting: Set<NodeId>;
  readonly timerId: number;
}

export class Reaper {
  private readonly pendingKeys = new Set<string>();
  private readonly graceTimers = new Map<number, Candidate>();
  private readonly checks = new Map<number, Check>();
  private readonly checkByTimer = new Map<number, number>();
  /** Reaps sent (phase 2) and checks abandoned (a node said no or did not answer). */
  readonly stats = { reapsSent: 0, reapChecksFailed: 0 };

  constructor(
    private readonly graceMs: number,
    private readonly allocateId: () => number,
  ) {
    assert(graceMs >= 0, 'the tombstone grace period is not negative');
  }

  get pending(): number {
    return this.pendingKeys.size;
  }

  /** A get saw only tombstones on every primary: reap after the grace period, if not already. */
  consider(candidate: Candidate, out: Effects): void {
    if (this.pendingKeys.has(candidate.key) || this.pendingKeys.size >= REAPS_PENDING_MAX) return;
    assert(candidate.dots.length > 0, 'a reap candidate has tombstones');
    const timerId = this.allocateId();
    this.pendingKeys.add(candidate.key);
    this.graceTimers.set(timerId, candidate);
    out.setTimer(timerId, this.graceMs);
  }

  /** Handles the reaper's timers; false when the timer is not one of them. */
  onTimer(timerId: number, nodes: readonly NodeId[], out: Effects): boolean {
    const candidate = this.graceTimers.get(timerId);
    if (candidate !== undefined) {
      this.graceTimers.delete(timerId);
      this.startCheck(candidate, nodes, out);
      return true;
    }
    const checkId = this.checkByTimer.get(timerId);
    if (checkId === undefined) return false;
    this.abandon(checkId);
    return true;
  }

  onCheckReply(checkId: number, from: NodeId, ok: boolean, out: Effects): void {
    const check = this.checks.get(checkId);
    if (check === undefined || !check.waiting.has(from)) return;
    if (!ok) return this.abandon(checkId);
    check.waiting.delete(from);
    if (check.waiting.size > 0) return;
    this.finish(checkId, check, out);
    this.stats.reapsSent++;
    for (const node of check.primaries)
      out.send(node, { type: 'reap', key: check.key, dots: check.dots });
  }

  private startCheck(candidate: Candidate, nodes: readonly NodeId[], out: Effects): void {
    const checkId = this.allocateId();
    const timerId = this.allocateId();
    this.checks.set(checkId, { ...candidate, waiting: new Set(nodes), timerId });
    this.checkByTimer.set(timerId, checkId);
    out.setTimer(timerId, Math.max(this.graceMs, 1));
    for (const node of nodes) {
      out.send(node, { type: 'reap-check', checkId, key: candidate.key, dots: candidate.dots });
    }
  }

  private abandon(checkId: number): void {
    const check = this.checks.get(checkId);
    if (check === undefined) return;
    this.stats.reapChecksFailed++;
    this.checks.delete(checkId);
    this.checkByTimer.delete(check.timerId);
    this.pendingKeys.delete(check.key);
  }

  private finish(checkId: number, check: Check, out: Effects): void {
    this.checks.delete(checkId);
    this.checkByTimer.delete(check.timerId);
    this.pendingKeys.delete(check.key);
    out.cancelTimer(check.timerId);
  }
}
