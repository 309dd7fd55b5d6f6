/**
 * Gossip membership with SWIM-style failure detection, as a pure per-node state machine (after
 * hashicorp/memberlist `state.go`, minus its I/O). No clocks, no randomness, no I/O: every input
 * carries `nowMs`, randomness comes in as `random()` in [0, 1) or a peer-picking callback, and
 * every method returns the messages to send and the timers to set. The transport may lose,
 * delay, reorder or duplicate messages; the machine copes.
 *
 * Record merge: higher incarnation wins; at equal incarnation the more severe status wins
 * (alive < suspect < dead); `left` is final. At equal incarnation and status the higher
 * heartbeat wins, and at an equal heartbeat a record with an address beats one without. A node
 * that hears it is suspected or dead refutes by taking an incarnation above the accusation;
 * only the node itself ever raises its incarnation. Its address (opaque here) travels in its
 * record, so the newest record's address wins; a node that hears its record with an address it
 * no longer has refutes the same way.
 *
 * Inputs: `gossipTick` (every gossipIntervalMs: push the full digest to one peer),
 * `probeTick` (every probeIntervalMs: ping the next peer of a shuffled round robin),
 * `onMessage` (any SwimMessage), `onTimer` (a timer this machine asked for).
 */
import { assert } from './assert.js';
import { confirmationsExpected, suspicionTimeoutMs } from './suspicion.js';
import type { NodeId } from './types.js';

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left';

export interface MemberRecord {
  readonly id: NodeId;
  readonly incarnation: number;
  readonly status: MemberStatus;
  /** Bumped by the member itself on every gossip tick; newest wins at equal incarnation. */
  readonly heartbeat?: number;
  /** Ring tokens, opaque here. */
  readonly tokens?: unknown;
  /**
   * Where peers reach the member (`host:port` for the TCP runtime), opaque here: only the
   * member itself sets it, so it travels with the member's incarnation and the newest record's
   * address wins. Absent where the runtime needs none (worker threads, the simulator).
   */
  readonly address?: string;
  /** Who first suspected this member at this incarnation (Lifeguard counts distinct accusers). */
  readonly suspectedBy?: NodeId;
}

export type SwimMessage =
  /** Push (reply false) or pull answer (reply true) carrying the sender's full digest. */
  | {
      readonly type: 'm-gossip';
      readonly from: NodeId;
      readonly records: readonly MemberRecord[];
      readonly reply: boolean;
    }
  | { readonly type: 'm-ping'; readonly from: NodeId; readonly seq: number }
  /** `record` is the acker's own record, so a refutation travels with the ack. */
  | {
      readonly type: 'm-ack';
      readonly from: NodeId;
      readonly seq: number;
      readonly record: MemberRecord;
    }
  /** Ask `from`'s helper to ping `target` and relay the ack under `seq`. */
  | {
      readonly type: 'm-ping-req';
      readonly from: NodeId;
      readonly target: NodeId;
      readonly seq: number;
    };

export type SwimTimer =
  | { readonly kind: 'probe-timeout'; readonly seq: number }
  | { readonly kind: 'indirect-timeout'; readonly seq: number }
  | { readonly kind: 'suspicion'; readonly id: NodeId; readonly incarnation: number };

export interface MemberChange {
  readonly id: NodeId;
  readonly status: MemberStatus;
  readonly incarnation: number;
}

export interface SwimOutput {
  readonly sends: Array<{ readonly to: NodeId; readonly message: SwimMessage }>;
  readonly timers: Array<{ readonly timer: SwimTimer; readonly delayMs: number }>;
  /** Status changes in this node's view, in order (for routing and logs). */
  readonly changes: MemberChange[];
  /**
   * Peers whose address this view learned or saw change, in order. The host must point its
   * transport there before it carries out `sends` (a pull answer goes to a joiner at once).
   */
  readonly addresses: Array<{ readonly id: NodeId; readonly address: string }>;
}

/** How this node starts its own record. */
export interface OwnRecord {
  /** Where peers reach this node (opaque). @default none */
  readonly address?: string;
  /**
   * The incarnation to start at. A restarted process passes one above any it can have reached
   * before (the TCP runtime uses its start time in seconds, as Cassandra's gossip generation),
   * so its record, and a changed address in it, supersedes the copies peers still hold.
   * @default 0
   */
  readonly incarnation?: number;
  readonly tokens?: unknown;
}

/** SWIM's settings; their defaults and formulas live in src/config.ts (`membershipConfig`). */
export interface SwimConfig {
  /** Push-pull with one random peer every interval. */
  readonly gossipIntervalMs: number;
  /** One probe per interval, round robin. */
  readonly probeIntervalMs: number;
  /** A direct ping unanswered this long goes indirect. */
  readonly probeTimeoutMs: number;
  /** Helpers that ping on our behalf before we suspect. */
  readonly indirectChecks: number;
  /** Suspect for at least suspicionMult × max(1, log10 n) × probe interval. */
  readonly suspicionMult: number;
  /** A lone accuser waits this many times that minimum (Lifeguard). */
  readonly suspicionMaxTimeoutMult: number;
}

/** The cluster bound: every digest carries all records, so it must stay small. */
export const MEMBERS_MAX = 1024;
/** Bound on pending relayed pings (ping-req helpers); the oldest is forgotten first. */
export const RELAYS_MAX = 256;
/** Bound on probes in flight (each lasts about one probe interval). */
const PROBES_MAX = 8;
/** Bound on accusers remembered per suspicion. */
const ACCUSERS_MAX = 16;

const SEVERITY: Record<MemberStatus, number> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/** True when `incoming` should replace `current` (the merge rule above). */
export function supersedes(incoming: MemberRecord, current: MemberRecord | undefined): boolean {
  if (current === undefined) return true;
  assert(incoming.id === current.id, 'records compared for the same member');
  if (current.status === 'left') return false;
  if (incoming.status === 'left') return true;
  if (incoming.incarnation !== current.incarnation) {
    return incoming.incarnation > current.incarnation;
  }
  const severity = SEVERITY[incoming.status] - SEVERITY[current.status];
  if (severity !== 0) return severity > 0;
  const beats = (incoming.heartbeat ?? 0) - (current.heartbeat ?? 0);
  if (beats !== 0) return beats > 0;
  // Otherwise equal: the member's own record (with its address) beats a bare seed entry.
  return incoming.address !== undefined && current.address === undefined;
}

/** A peer picker from a [0, 1) source. */
export function pickWith(random: () => number): (candidates: readonly NodeId[]) => NodeId {
  return (candidates) => {
    assert(candidates.length > 0, 'pick from a non-empty list');
    const i = Math.min(candidates.length - 1, Math.floor(random() * candidates.length));
    return candidates[i]!;
  };
}

interface Suspicion {
  readonly incarnation: number;
  readonly startMs: number;
  readonly accusers: Set<NodeId>;
}

interface Probe {
  readonly seq: number;
  readonly target: NodeId;
  acked: boolean;
}

function emptyOutput(): SwimOutput {
  return { sends: [], timers: [], changes: [], addresses: [] };
}

export class Swim {
  readonly self: NodeId;
  readonly config: SwimConfig;
  private readonly random: () => number;
  private readonly records = new Map<NodeId, MemberRecord>();
  private readonly suspicions = new Map<NodeId, Suspicion>();
  private probeOrder: NodeId[] = [];
  private probeIndex = 0;
  /** Probes in flight by seq; a probe lasts one interval, so only a few overlap. */
  private readonly probes = new Map<number, Probe>();
  private seqNext = 1;
  /** Relayed pings: our seq → whom to ack and under which seq. */
  private readonly relays = new Map<number, { readonly to: NodeId; readonly seq: number }>();
  /** Records dropped because the cluster bound was reached. */
  droppedRecords = 0;

  constructor(
    self: NodeId,
    seeds: readonly NodeId[],
    random: () => number,
    config: SwimConfig,
    start: OwnRecord = {},
  ) {
    this.self = self;
    this.config = config;
    this.random = random;
    assert(this.config.probeTimeoutMs < this.config.probeIntervalMs, 'probe timeout < interval');
    assert(seeds.length < MEMBERS_MAX, 'seed list fits the cluster bound');
    const incarnation = start.incarnation ?? 0;
    assert(Number.isSafeInteger(incarnation) && incarnation >= 0, 'an incarnation is a count');
    const own: MemberRecord = {
      id: self,
      incarnation,
      status: 'alive',
      heartbeat: 0,
      ...(start.address === undefined ? {} : { address: start.address }),
      ...(start.tokens === undefined ? {} : { tokens: start.tokens }),
    };
    this.records.set(self, own);
    for (const seed of seeds) {
      if (seed !== self) this.records.set(seed, { id: seed, incarnation: 0, status: 'alive' });
    }
  }

  /** This node's view, sorted by id. */
  view(): MemberRecord[] {
    return [...this.records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  record(id: NodeId): MemberRecord | undefined {
    return this.records.get(id);
  }

  /** Members neither dead nor left, this node included. */
  liveCount(): number {
    let count = 0;
    for (const r of this.records.values())
      if (r.status === 'alive' || r.status === 'suspect') count++;
    return count;
  }

  private own(): MemberRecord {
    const own = this.records.get(this.self);
    assert(own !== undefined, 'a node always knows itself');
    return own;
  }

  /** Peers one may gossip with or probe: not self, not dead, not left. */
  private peers(): NodeId[] {
    const out: NodeId[] = [];
    for (const r of this.records.values()) {
      if (r.id !== this.self && (r.status === 'alive' || r.status === 'suspect')) out.push(r.id);
    }
    return out.sort();
  }

  /** Push half of push-pull: our full digest to one peer. */
  gossipTick(nowMs: number, pickPeer: (candidates: readonly NodeId[]) => NodeId): SwimOutput {
    assert(Number.isFinite(nowMs), 'gossip tick time is finite');
    const out = emptyOutput();
    const own = this.own();
    if (own.status === 'left') return out;
    this.records.set(this.self, { ...own, heartbeat: (own.heartbeat ?? 0) + 1 });
    const peers = this.peers();
    if (peers.length === 0) return out;
    const to = pickPeer(peers);
    assert(peers.includes(to), 'the picked peer is a candidate');
    out.sends.push({ to, message: this.digest(false) });
    return out;
  }

  /**
   * Push our digest to one given peer, dead ones included ("gossip to the dead", memberlist):
   * a member wrongly declared dead learns it and refutes, which heals views after a partition.
   */
  gossipTo(peer: NodeId): SwimOutput {
    const out = emptyOutput();
    if (peer === this.self || this.own().status === 'left') return out;
    out.sends.push({ to: peer, message: this.digest(false) });
    return out;
  }

  /** The status of a member in this view (undefined: never heard of). */
  statusOf(id: NodeId): MemberStatus | undefined {
    return this.records.get(id)?.status;
  }

  private digest(reply: boolean): SwimMessage {
    const records = [...this.records.values()];
    assert(records.length <= MEMBERS_MAX, 'digest within the cluster bound');
    return { type: 'm-gossip', from: this.self, records, reply };
  }

  /** Merges a digest; answers a push with our digest (the pull half). */
  onGossip(
    from: NodeId,
    records: readonly MemberRecord[],
    nowMs: number,
    reply = false,
  ): SwimOutput {
    const out = emptyOutput();
    const limit = Math.min(records.length, MEMBERS_MAX);
    for (let i = 0; i < limit; i++) this.merge(records[i]!, from, nowMs, out);
    if (!reply) out.sends.push({ to: from, message: this.digest(true) });
    return out;
  }

  /** Dispatches any membership message. */
  onMessage(message: SwimMessage, nowMs: number): SwimOutput {
    switch (message.type) {
      case 'm-gossip':
        return this.onGossip(message.from, message.records, nowMs, message.reply);
      case 'm-ping':
        return this.onPing(message.from, message.seq);
      case 'm-ack':
        return this.onAck(message.from, message.seq, message.record, nowMs);
      case 'm-ping-req':
        return this.onPingReq(message.from, message.target, message.seq);
    }
  }

  private merge(incoming: MemberRecord, from: NodeId, nowMs: number, out: SwimOutput): void {
    if (incoming.id === this.self) {
      this.refuteIfAccused(incoming, out);
      return;
    }
    const current = this.records.get(incoming.id);
    if (current === undefined && this.records.size >= MEMBERS_MAX) {
      this.droppedRecords++;
      return;
    }
    if (
      incoming.status === 'suspect' &&
      current?.status === 'suspect' &&
      incoming.incarnation === current.incarnation
    ) {
      this.confirm(incoming, from, nowMs, out);
    }
    if (!supersedes(incoming, current)) return;
    this.apply(incoming, nowMs, out);
  }

  /** Installs a record and keeps suspicion state and change notifications in step. */
  private apply(incoming: MemberRecord, nowMs: number, out: SwimOutput): void {
    const previous = this.records.get(incoming.id);
    // A record that names no address (an accusation built from an old copy, a seed) keeps the
    // one this view has: an address is only ever replaced by a newer one.
    const next =
      incoming.address === undefined && previous?.address !== undefined
        ? { ...incoming, address: previous.address }
        : incoming;
    this.records.set(next.id, next);
    if (next.address !== undefined && next.address !== previous?.address) {
      out.addresses.push({ id: next.id, address: next.address });
    }
    if (previous?.status !== next.status) {
      out.changes.push({ id: next.id, status: next.status, incarnation: next.incarnation });
    }
    if (next.status === 'suspect') this.startSuspicion(next, nowMs, out);
    else this.suspicions.delete(next.id);
  }

  /**
   * Someone says we are suspect, dead or at a newer incarnation, or holds our record with an
   * address we no longer have (we restarted elsewhere): take a higher incarnation.
   */
  private refuteIfAccused(incoming: MemberRecord, out: SwimOutput): void {
    const own = this.own();
    if (own.status === 'left') return;
    const stale = incoming.address !== undefined && incoming.address !== own.address;
    const accused =
      (incoming.status !== 'alive' || stale) && incoming.incarnation >= own.incarnation;
    if (!accused && incoming.incarnation <= own.incarnation) return;
    const incarnation = Math.max(own.incarnation, incoming.incarnation) + 1;
    this.records.set(this.self, { ...own, incarnation, status: 'alive' });
    assert(this.own().incarnation > incoming.incarnation, 'refutation outranks the accusation');
    out.changes.push({ id: this.self, status: 'alive', incarnation });
  }

  private startSuspicion(record: MemberRecord, nowMs: number, out: SwimOutput): void {
    const existing = this.suspicions.get(record.id);
    if (existing !== undefined && existing.incarnation === record.incarnation) return;
    const accusers = new Set<NodeId>();
    if (record.suspectedBy !== undefined) accusers.add(record.suspectedBy);
    this.suspicions.set(record.id, { incarnation: record.incarnation, startMs: nowMs, accusers });
    this.armSuspicion(record.id, nowMs, out);
  }

  private confirm(incoming: MemberRecord, from: NodeId, nowMs: number, out: SwimOutput): void {
    const s = this.suspicions.get(incoming.id);
    if (s === undefined || s.incarnation !== incoming.incarnation) return;
    const accuser = incoming.suspectedBy ?? from;
    if (s.accusers.has(accuser) || s.accusers.size >= ACCUSERS_MAX) return;
    s.accusers.add(accuser);
    this.armSuspicion(incoming.id, nowMs, out);
  }

  /** Timeout for the suspicion of `id` given what is confirmed so far. */
  suspicionTimeoutFor(id: NodeId): number {
    const s = this.suspicions.get(id);
    assert(s !== undefined, `a suspicion of ${id} is running`);
    const nodes = this.liveCount();
    return suspicionTimeoutMs({
      nodes,
      probeIntervalMs: this.config.probeIntervalMs,
      suspicionMult: this.config.suspicionMult,
      suspicionMaxTimeoutMult: this.config.suspicionMaxTimeoutMult,
      confirmations: Math.max(0, s.accusers.size - 1),
      confirmationsExpected: confirmationsExpected(nodes, this.config.suspicionMult),
    });
  }

  private armSuspicion(id: NodeId, nowMs: number, out: SwimOutput): void {
    const s = this.suspicions.get(id);
    assert(s !== undefined, 'arming a running suspicion');
    const delayMs = Math.max(0, s.startMs + this.suspicionTimeoutFor(id) - nowMs);
    out.timers.push({ timer: { kind: 'suspicion', id, incarnation: s.incarnation }, delayMs });
  }

  /** Pings the next peer of the shuffled round robin. */
  probeTick(nowMs: number): SwimOutput {
    assert(Number.isFinite(nowMs), 'probe tick time is finite');
    const out = emptyOutput();
    if (this.own().status === 'left') return out;
    const target = this.nextProbeTarget();
    if (target === undefined) return out;
    const seq = this.seqNext++;
    if (this.probes.size >= PROBES_MAX) {
      const oldest = this.probes.keys().next();
      if (!oldest.done) this.probes.delete(oldest.value);
    }
    this.probes.set(seq, { seq, target, acked: false });
    assert(this.probes.size <= PROBES_MAX, 'probes in flight within their bound');
    out.sends.push({ to: target, message: { type: 'm-ping', from: this.self, seq } });
    out.timers.push({ timer: { kind: 'probe-timeout', seq }, delayMs: this.config.probeTimeoutMs });
    return out;
  }

  private nextProbeTarget(): NodeId | undefined {
    // Bounded: at most one reshuffle plus one pass over the order.
    for (let attempt = 0; attempt <= this.probeOrder.length + 1; attempt++) {
      if (this.probeIndex >= this.probeOrder.length) {
        this.probeOrder = this.shuffle(this.peers());
        this.probeIndex = 0;
        if (this.probeOrder.length === 0) return undefined;
      }
      const id = this.probeOrder[this.probeIndex++]!;
      const r = this.records.get(id);
      if (r !== undefined && (r.status === 'alive' || r.status === 'suspect')) return id;
    }
    return undefined;
  }

  private shuffle(items: NodeId[]): NodeId[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.min(i, Math.floor(this.random() * (i + 1)));
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  private onPing(from: NodeId, seq: number): SwimOutput {
    const out = emptyOutput();
    out.sends.push({
      to: from,
      message: { type: 'm-ack', from: this.self, seq, record: this.own() },
    });
    return out;
  }

  private onAck(from: NodeId, seq: number, record: MemberRecord, nowMs: number): SwimOutput {
    const out = emptyOutput();
    const relay = this.relays.get(seq);
    if (relay !== undefined) {
      this.relays.delete(seq);
      // Sent as ourselves: the receiving node drops a message whose `from` is not its sender
      // (a relay that named the probed node was dropped as malformed, so no indirect probe
      // ever succeeded). The record names the node that answered.
      out.sends.push({
        to: relay.to,
        message: { type: 'm-ack', from: this.self, seq: relay.seq, record },
      });
      return out;
    }
    // The node that answered: the sender of a direct ack, the record's owner for a relayed one.
    const probe = this.probes.get(seq);
    const relayed = from !== record.id && probe?.target === record.id;
    const subject = relayed ? record.id : from;
    if (probe !== undefined && probe.target === subject) probe.acked = true;
    if (record.id === subject) this.merge(record, subject, nowMs, out);
    return out;
  }

  private onPingReq(from: NodeId, target: NodeId, seq: number): SwimOutput {
    const out = emptyOutput();
    if (target === this.self) return this.onPing(from, seq);
    const ourSeq = this.seqNext++;
    if (this.relays.size >= RELAYS_MAX) {
      const oldest = this.relays.keys().next();
      if (!oldest.done) this.relays.delete(oldest.value);
    }
    this.relays.set(ourSeq, { to: from, seq });
    assert(this.relays.size <= RELAYS_MAX, 'relay table within its bound');
    out.sends.push({ to: target, message: { type: 'm-ping', from: this.self, seq: ourSeq } });
    return out;
  }

  /** A timer this machine asked for has fired. Stale timers are harmless. */
  onTimer(timer: SwimTimer, nowMs: number): SwimOutput {
    switch (timer.kind) {
      case 'probe-timeout':
        return this.onProbeTimeout(timer.seq);
      case 'indirect-timeout':
        return this.onIndirectTimeout(timer.seq, nowMs);
      case 'suspicion':
        return this.onSuspicionTimer(timer.id, timer.incarnation, nowMs);
    }
  }

  private onProbeTimeout(seq: number): SwimOutput {
    const out = emptyOutput();
    const probe = this.probes.get(seq);
    if (probe === undefined || probe.acked) return out;
    const helpers = this.shuffle(this.peers().filter((id) => id !== probe.target)).slice(
      0,
      this.config.indirectChecks,
    );
    for (const helper of helpers) {
      out.sends.push({
        to: helper,
        message: { type: 'm-ping-req', from: this.self, target: probe.target, seq },
      });
    }
    const delayMs = this.config.probeIntervalMs - this.config.probeTimeoutMs;
    out.timers.push({ timer: { kind: 'indirect-timeout', seq }, delayMs });
    return out;
  }

  private onIndirectTimeout(seq: number, nowMs: number): SwimOutput {
    const out = emptyOutput();
    const probe = this.probes.get(seq);
    this.probes.delete(seq);
    if (probe === undefined || probe.acked) return out;
    const current = this.records.get(probe.target);
    if (current === undefined) return out;
    if (current.status === 'suspect') {
      // An independent accusation: our copy now names us, so our digests carry it and every
      // node counts one more confirmation (memberlist sends one suspect message per accuser).
      const accused = { ...current, suspectedBy: this.self };
      this.records.set(probe.target, accused);
      this.confirm(accused, this.self, nowMs, out);
      return out;
    }
    if (current.status !== 'alive') return out;
    const suspect: MemberRecord = { ...current, status: 'suspect', suspectedBy: this.self };
    this.apply(suspect, nowMs, out);
    // Tell the suspect directly so it can refute at once (memberlist broadcasts the same).
    out.sends.push({
      to: probe.target,
      message: { type: 'm-gossip', from: this.self, records: [suspect], reply: false },
    });
    return out;
  }

  private onSuspicionTimer(id: NodeId, incarnation: number, nowMs: number): SwimOutput {
    const out = emptyOutput();
    const s = this.suspicions.get(id);
    const current = this.records.get(id);
    if (s === undefined || s.incarnation !== incarnation) return out;
    if (current?.status !== 'suspect' || current.incarnation !== incarnation) return out;
    if (nowMs < s.startMs + this.suspicionTimeoutFor(id)) {
      this.armSuspicion(id, nowMs, out); // fired early (a coarse clock): wait for the rest
      return out;
    }
    const { suspectedBy: _accuser, ...rest } = current;
    this.apply({ ...rest, status: 'dead' }, nowMs, out);
    assert(!this.suspicions.has(id), 'a dead member has no running suspicion');
    return out;
  }

  /** Graceful leave: a final record that gossip spreads; this node stops ticking. */
  leave(): SwimOutput {
    const out = emptyOutput();
    const own = this.own();
    const left: MemberRecord = { ...own, status: 'left', incarnation: own.incarnation + 1 };
    this.records.set(this.self, left);
    out.changes.push({ id: this.self, status: 'left', incarnation: left.incarnation });
    for (const to of this.peers().slice(0, this.config.indirectChecks + 1)) {
      out.sends.push({ to, message: this.digest(false) });
    }
    return out;
  }
}
