/**
 * Two-phase tombstone reaping, both sides. A key whose every primary answered a get with the same
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
import { NOTHING_AFTER, type NodeContext } from './node-context.js';
import type { TimerOwner } from './timers.js';
import type { Dot, KeyRecord, NodeId } from './types.js';
import { isDeleted, sameDots } from './version.js';

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

export class Reaper implements TimerOwner {
  private readonly pendingKeys = new Set<string>();
  private readonly graceTimers = new Map<number, Candidate>();
  private readonly checks = new Map<number, Check>();
  private readonly checkByTimer = new Map<number, number>();
  /** Reaps sent (phase 2) and checks abandoned (a node said no or did not answer). */
  readonly stats = { reapsSent: 0, reapChecksFailed: 0, tombstonesReaped: 0 };
  private readonly graceMs: number;

  constructor(
    private readonly ctx: NodeContext,
    /** Whether this node could still bring an older version of `key` back (see onCheck). */
    private readonly isBusy: (key: string) => boolean,
  ) {
    this.graceMs = ctx.limits.tombstoneGraceMs;
    assert(this.graceMs >= 0, 'the tombstone grace period is not negative');
  }

  /** Whether a reap of `key` waits here (grace period or check round). */
  isPending(key: string): boolean {
    return this.pendingKeys.has(key);
  }

  get pending(): number {
    return this.pendingKeys.size;
  }

  /**
   * `record` (a key's reconciled record, every primary heard, or a local merge result) is only
   * tombstones: reap the key after the grace period, if not already pending.
   */
  considerTombstones(key: string, record: KeyRecord, out: Effects): void {
    const dots = record.siblings.map((s) => s.dot);
    const primaries = this.ctx.ring.preferenceList(key, this.ctx.n);
    this.consider({ key, dots, primaries }, out);
  }

  private consider(candidate: Candidate, out: Effects): void {
    if (this.pendingKeys.has(candidate.key) || this.pendingKeys.size >= REAPS_PENDING_MAX) return;
    assert(candidate.dots.length > 0, 'a reap candidate has tombstones');
    const timerId = this.ctx.allocateId();
    this.pendingKeys.add(candidate.key);
    this.graceTimers.set(timerId, candidate);
    this.ctx.timers.arm(timerId, this, this.graceMs, out);
  }

  /** A grace period ended (start the check round) or a check round timed out (abandon it). */
  onTimer(timerId: number, out: Effects): void {
    const candidate = this.graceTimers.get(timerId);
    if (candidate !== undefined) {
      this.graceTimers.delete(timerId);
      return this.startCheck(candidate, this.ctx.ringNodes, out);
    }
    const checkId = this.checkByTimer.get(timerId);
    if (checkId !== undefined) this.abandon(checkId);
  }

  /** May `key` be reaped? Not while anything here could still carry an older version of it. */
  onCheck(from: NodeId, checkId: number, key: string, dots: readonly Dot[], out: Effects): void {
    const local = this.ctx.current(key, out); // a value past its deadline counts as a tombstone
    const primary = this.ctx.ring.preferenceList(key, this.ctx.n).includes(this.ctx.self);
    const holdsExactly =
      local !== undefined && isDeleted(local) && sameDots(local, tombstones(dots));
    // A primary that holds nothing (it reaped already, or never had the key) cannot bring an
    // older version back either: a reap that raced a read repair converges (sim seed 2980).
    const ok = !this.isBusy(key) && (local === undefined || (primary && holdsExactly));
    out.send(from, { type: 'reap-check-reply', checkId, ok });
  }

  /** Phase 2 at a primary: remove the tombstones, unless something newer arrived meanwhile. */
  onReap(key: string, dots: readonly Dot[], out: Effects): void {
    const local = this.ctx.current(key, out);
    if (local === undefined || !isDeleted(local)) return;
    if (!sameDots(local, tombstones(dots))) return; // something newer arrived: keep it
    this.stats.tombstonesReaped++;
    this.ctx.writeData(key, null, NOTHING_AFTER, out);
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
    const checkId = this.ctx.allocateId();
    const timerId = this.ctx.allocateId();
    this.checks.set(checkId, { ...candidate, waiting: new Set(nodes), timerId });
    this.checkByTimer.set(timerId, checkId);
    this.ctx.timers.arm(timerId, this, Math.max(this.graceMs, 1), out);
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
    this.ctx.timers.cancel(check.timerId, out);
  }
}

/** A record of tombstones with these dots (for comparing dot sets). */
function tombstones(dots: readonly Dot[]): KeyRecord {
  return { siblings: dots.map((dot) => ({ dot, past: [], value: null })) };
}
