/**
 * A node's gossip membership and failure detector (membership.ts, SWIM with Lifeguard
 * suspicion) wired into NodeCore's effects: it owns the gossip and probe timers, maps the
 * machine's own timers to timer ids, wraps its messages in the `member` peer message, and
 * answers whether a peer is dead.
 *
 * What a dead member means here: requests route around it (stand-ins and hints), exactly as for
 * a peer the runtime reported down. It never changes ring ownership; only an explicit
 * membership change does (ring-state.ts). Ring members this view holds dead still get our
 * digest every tick ("gossip to the dead"), so a node declared dead by mistake (a partition,
 * a pause) learns it, refutes with a higher incarnation, and comes back.
 *
 * Time and randomness are injected (`now`, `random`), so the simulator stays deterministic.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import {
  Membership,
  type MembershipConfig,
  type MembershipMessage,
  type MembershipOutput,
  type MembershipTimer,
  pickWith,
} from './membership.js';
import type { NodeId } from './types.js';

export interface MemberViewOptions {
  readonly self: NodeId;
  /** The ring's nodes: the first members this node knows (the seeds). */
  readonly seeds: readonly NodeId[];
  readonly config: MembershipConfig;
  /** Milliseconds on any monotonic clock. */
  readonly now: () => number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  readonly allocateId: () => number;
}

/** Bound on membership timers pending at once (probes, indirect probes, suspicions). */
const TIMERS_MAX = 4096;

export class MemberView {
  private readonly membership: Membership;
  private readonly timers = new Map<number, MembershipTimer>();
  private gossipTimerId: number | null = null;
  private probeTimerId: number | null = null;
  /** Status changes seen (for stats and logs). */
  changes = 0;

  constructor(private readonly opts: MemberViewOptions) {
    this.membership = new Membership(opts.self, opts.seeds, opts.random, opts.config);
  }

  /** Arms the periodic gossip and probe timers (once). */
  arm(out: Effects): void {
    if (this.gossipTimerId === null) this.armGossip(out);
    if (this.probeTimerId === null) this.armProbe(out);
  }

  /** Whether this view holds `peer` dead or gone. */
  isDead(peer: NodeId): boolean {
    const status = this.membership.statusOf(peer);
    return status === 'dead' || status === 'left';
  }

  /** Members this view holds suspect, dead or left (for stats). */
  unhealthy(): number {
    return this.membership.view().filter((r) => r.status !== 'alive').length;
  }

  /** Members this view holds dead or left (for stats). */
  dead(): number {
    return this.membership.view().filter((r) => r.status === 'dead' || r.status === 'left').length;
  }

  onMessage(message: MembershipMessage, out: Effects): void {
    this.apply(this.membership.onMessage(message, this.opts.now()), out);
  }

  /** Handles a timer if it is one of ours; false otherwise. */
  onTimer(timerId: number, out: Effects): boolean {
    if (timerId === this.gossipTimerId) {
      this.armGossip(out);
      this.apply(this.membership.gossipTick(this.opts.now(), pickWith(this.opts.random)), out);
      return true;
    }
    if (timerId === this.probeTimerId) {
      this.armProbe(out);
      this.apply(this.membership.probeTick(this.opts.now()), out);
      return true;
    }
    const timer = this.timers.get(timerId);
    if (timer === undefined) return false;
    this.timers.delete(timerId);
    this.apply(this.membership.onTimer(timer, this.opts.now()), out);
    return true;
  }

  /** Every handoff tick: our digest to each ring member this view holds dead. */
  gossipToDead(members: readonly NodeId[], out: Effects): void {
    for (const member of members) {
      if (member !== this.opts.self && this.isDead(member)) {
        this.apply(this.membership.gossipTo(member), out);
      }
    }
  }

  /** This node left the ring for good: a final `left` record, and no more probing. */
  leave(out: Effects): void {
    this.apply(this.membership.leave(), out);
  }

  private armGossip(out: Effects): void {
    this.gossipTimerId = this.opts.allocateId();
    out.setTimer(this.gossipTimerId, this.opts.config.gossipIntervalMs);
  }

  private armProbe(out: Effects): void {
    this.probeTimerId = this.opts.allocateId();
    out.setTimer(this.probeTimerId, this.opts.config.probeIntervalMs);
  }

  private apply(output: MembershipOutput, out: Effects): void {
    for (const { to, message } of output.sends) out.send(to, { type: 'member', m: message });
    for (const { timer, delayMs } of output.timers) {
      if (this.timers.size >= TIMERS_MAX) break; // stale timers are harmless; bound the map
      const timerId = this.opts.allocateId();
      this.timers.set(timerId, timer);
      out.setTimer(timerId, delayMs);
    }
    assert(this.timers.size <= TIMERS_MAX, 'membership timers within their bound');
    this.changes += output.changes.length;
  }
}
