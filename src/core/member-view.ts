/**
 * A node's gossip membership and failure detector (swim.ts, SWIM with Lifeguard
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
  type MemberRecord,
  type OwnRecord,
  pickWith,
  Swim,
  type SwimConfig,
  type SwimMessage,
  type SwimOutput,
  type SwimTimer,
} from './swim.js';
import type { TimerOwner, Timers } from './timers.js';
import type { NodeId } from './types.js';

export interface MemberViewOptions {
  readonly self: NodeId;
  /** The ring's nodes: the first members this node knows (the seeds). */
  readonly seeds: readonly NodeId[];
  readonly config: SwimConfig;
  /** Milliseconds on any monotonic clock. */
  readonly now: () => number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  readonly timers: Timers;
  /** This node's own record: its address and starting incarnation (swim.ts OwnRecord). */
  readonly own?: OwnRecord;
}

/** Bound on membership timers pending at once (probes, indirect probes, suspicions). */
const TIMERS_MAX = 4096;

export class MemberView implements TimerOwner {
  private readonly swim: Swim;
  private readonly timers = new Map<number, SwimTimer>();
  private gossipTimerId: number | null = null;
  private probeTimerId: number | null = null;
  /** Status changes seen (for stats and logs). */
  changes = 0;

  constructor(private readonly opts: MemberViewOptions) {
    this.swim = new Swim(opts.self, opts.seeds, opts.random, opts.config, opts.own);
  }

  /** Arms the periodic gossip and probe timers (once). */
  arm(out: Effects): void {
    if (this.gossipTimerId === null) this.armGossip(out);
    if (this.probeTimerId === null) this.armProbe(out);
  }

  /** Whether this view holds `peer` dead or gone. */
  isDead(peer: NodeId): boolean {
    const status = this.swim.statusOf(peer);
    return status === 'dead' || status === 'left';
  }

  /** Every member this view knows, sorted by id (with its address, where it has one). */
  members(): MemberRecord[] {
    return this.swim.view();
  }

  /** Members this view holds suspect, dead or left (for stats). */
  unhealthy(): number {
    return this.swim.view().filter((r) => r.status !== 'alive').length;
  }

  /** Members this view holds dead or left (for stats). */
  dead(): number {
    return this.swim.view().filter((r) => r.status === 'dead' || r.status === 'left').length;
  }

  onMessage(message: SwimMessage, out: Effects): void {
    this.apply(this.swim.onMessage(message, this.opts.now()), out);
  }

  /** One of our timers fired: the gossip round, the probe round, or one SWIM set. */
  onTimer(timerId: number, out: Effects): void {
    if (timerId === this.gossipTimerId) {
      this.armGossip(out);
      return this.apply(this.swim.gossipTick(this.opts.now(), pickWith(this.opts.random)), out);
    }
    if (timerId === this.probeTimerId) {
      this.armProbe(out);
      return this.apply(this.swim.probeTick(this.opts.now()), out);
    }
    const timer = this.timers.get(timerId);
    if (timer === undefined) return;
    this.timers.delete(timerId);
    this.apply(this.swim.onTimer(timer, this.opts.now()), out);
  }

  /** Every tick: our digest to each ring member this view holds dead. */
  gossipToDead(members: readonly NodeId[], out: Effects): void {
    for (const member of members) {
      if (member !== this.opts.self && this.isDead(member)) {
        this.apply(this.swim.gossipTo(member), out);
      }
    }
  }

  /** This node left the ring for good: a final `left` record, and no more probing. */
  leave(out: Effects): void {
    this.apply(this.swim.leave(), out);
  }

  private armGossip(out: Effects): void {
    this.gossipTimerId = this.opts.timers.set(this, this.opts.config.gossipIntervalMs, out);
  }

  private armProbe(out: Effects): void {
    this.probeTimerId = this.opts.timers.set(this, this.opts.config.probeIntervalMs, out);
  }

  private apply(output: SwimOutput, out: Effects): void {
    // Addresses first: a send below may go to the peer just learned (the pull answer to a joiner).
    for (const { id, address } of output.addresses) out.peerAddress(id, address);
    for (const { to, message } of output.sends) out.send(to, { type: 'member', m: message });
    for (const { timer, delayMs } of output.timers) {
      if (this.timers.size >= TIMERS_MAX) break; // stale timers are harmless; bound the map
      const timerId = this.opts.timers.set(this, delayMs, out);
      this.timers.set(timerId, timer);
    }
    assert(this.timers.size <= TIMERS_MAX, 'membership timers within their bound');
    this.changes += output.changes.length;
  }
}
