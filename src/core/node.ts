/**
 * NodeCore: one storage node's protocol as a pure state machine. The runtime feeds it one input
 * at a time and carries out the returned effects in order (see effects.ts). It never awaits,
 * reads a clock, draws a random number or touches a thread, socket or file, so the same code
 * runs in worker threads, in TCP processes and in the deterministic simulator.
 *
 * Roles:
 * - coordinator of client requests for keys it replicates (puts) or any key (gets);
 * - replica: merges siblings sent by coordinators and answers reads from its local data;
 * - forwarder: a put that reaches a node outside the key's preference list is handed to the
 *   first live node of that list, because only a replica can issue the key's next dot.
 */
import { assert } from './assert.js';
import { Coordinator, type CoordinatorStats, type Origin } from './coordinator.js';
import { type Effect, Effects } from './effects.js';
import {
  type ClientRequest,
  type ClientResult,
  type GetRequest,
  type PeerMessage,
  type PutRequest,
  parseClientRequest,
  parsePeerMessage,
} from './messages.js';
import type { Ring } from './ring.js';
import type { ActorId, KeyRecord, NodeId, StorageReader } from './types.js';
import { EMPTY_RECORD, sync, update } from './version.js';

export interface NodeCoreOptions {
  readonly id: NodeId;
  /** The actor this node issues dots as (see ActorId). */
  readonly actor: ActorId;
  readonly ring: Ring;
  /** Replicas per key. */
  readonly n: number;
  /** Extra time a forwarder waits past the request's own timeout for the coordinator's answer. */
  readonly forwardSlackMs: number;
  readonly store: StorageReader;
}

export type Input =
  /** A request from a local client; answered by a `reply` effect with the same reqId. */
  | { readonly kind: 'request'; readonly reqId: number; readonly request: unknown }
  /** A message from a peer, not yet validated. */
  | { readonly kind: 'message'; readonly from: NodeId; readonly message: unknown }
  | { readonly kind: 'timer'; readonly timerId: number }
  /** The persist effect with this token is durable. */
  | { readonly kind: 'persisted'; readonly token: number }
  /** The runtime learned that a peer stopped or started. */
  | { readonly kind: 'peer-status'; readonly peer: NodeId; readonly up: boolean };

/** What to do once a persist is durable. */
type AfterPersist =
  | { readonly kind: 'self-ack'; readonly opId: number }
  | { readonly kind: 'peer-ack'; readonly to: NodeId; readonly opId: number };

interface PendingPersist {
  readonly key: string;
  readonly record: KeyRecord;
  readonly then: AfterPersist;
}

interface PendingForward {
  readonly reqId: number;
  readonly timerId: number;
}

export interface NodeStats extends CoordinatorStats {
  /** Operations waiting for replica answers. */
  inFlight: number;
  /** Persists issued and not yet reported durable. */
  persistsPending: number;
  /** Peer messages dropped at the boundary because they were malformed. */
  malformedMessages: number;
  /** Puts handed to another node because this one does not replicate the key. */
  forwarded: number;
  replicaPuts: number;
  replicaGets: number;
}

/** How many self-addressed messages one step may process; bounds the local delivery loop. */
const LOCAL_DELIVERIES_MAX = 1024;

export class NodeCore {
  readonly id: NodeId;
  private readonly opts: NodeCoreOptions;
  private ring: Ring;
  private nextId = 1;
  private readonly coordinator: Coordinator;
  /** Records written but not yet durable; reads see them so dots stay unique. */
  private readonly overlay = new Map<string, KeyRecord>();
  private readonly persists = new Map<number, PendingPersist>();
  private readonly forwards = new Map<number, PendingForward>();
  private readonly forwardByTimer = new Map<number, number>();
  private readonly down = new Set<NodeId>();
  private readonly counters = {
    malformedMessages: 0,
    forwarded: 0,
    replicaPuts: 0,
    replicaGets: 0,
  };

  constructor(opts: NodeCoreOptions) {
    assert(opts.n >= 1, 'n is at least 1');
    assert(opts.ring.nodes().includes(opts.id), 'a node is a member of its ring');
    this.opts = opts;
    this.id = opts.id;
    this.ring = opts.ring;
    this.coordinator = new Coordinator(opts.id);
  }

  /** Consumes one input and returns the effects to carry out, in order. */
  step(input: Input): Effect[] {
    const out = new Effects();
    this.dispatch(input, out);
    this.deliverLocal(out);
    return out.list;
  }

  stats(): NodeStats {
    return {
      ...this.coordinator.stats,
      ...this.counters,
      inFlight: this.coordinator.inFlight,
      persistsPending: this.persists.size,
    };
  }

  /** The local record for a key, including writes not yet durable. */
  read(key: string): KeyRecord | undefined {
    return this.overlay.get(key) ?? this.opts.store.get(key);
  }

  private dispatch(input: Input, out: Effects): void {
    switch (input.kind) {
      case 'request':
        return this.onClientRequest(input.reqId, input.request, out);
      case 'message':
        return this.onPeerMessage(input.from, input.message, out);
      case 'timer':
        return this.onTimer(input.timerId, out);
      case 'persisted':
        return this.onPersisted(input.token, out);
      case 'peer-status':
        if (input.up) this.down.delete(input.peer);
        else if (input.peer !== this.id) this.down.add(input.peer);
        return;
    }
  }

  /** Messages a node sends itself are handled here, in the same step, without the transport. */
  private deliverLocal(out: Effects): void {
    let deliveries = 0;
    for (let i = 0; i < out.list.length; i++) {
      const effect = out.list[i]!;
      if (effect.kind !== 'send' || effect.to !== this.id) continue;
      out.list.splice(i, 1);
      i--;
      deliveries++;
      assert(deliveries <= LOCAL_DELIVERIES_MAX, 'local deliveries per step are bounded');
      this.onValidMessage(this.id, effect.message, out);
    }
  }

  private onClientRequest(reqId: number, raw: unknown, out: Effects): void {
    const request = parseClientRequest(raw);
    const origin: Origin = { kind: 'client', reqId };
    if (request === null) return out.reply(reqId, invalid('malformed request'));
    this.coordinate(request, origin, out);
  }

  private coordinate(request: ClientRequest, origin: Origin, out: Effects): void {
    const problem = this.validate(request);
    if (problem !== null) return out.answer(origin, invalid(problem));
    if (request.op === 'get') return this.coordinateGet(request, origin, out);
    this.coordinatePut(request, origin, out);
  }

  private validate(request: ClientRequest): string | null {
    const quorum = request.op === 'get' ? request.r : request.w;
    const name = request.op === 'get' ? 'r' : 'w';
    if (request.key.length === 0) return 'key must not be empty';
    if (quorum < 1 || quorum > this.opts.n) return `${name} must be between 1 and n=${this.opts.n}`;
    if (request.timeoutMs < 1) return 'timeoutMs must be at least 1';
    return null;
  }

  /** Preference-list nodes this node believes are up (itself always is). */
  private liveReplicas(key: string): NodeId[] {
    const prefs = this.ring.preferenceList(key, this.opts.n);
    return prefs.filter((node) => node === this.id || !this.down.has(node));
  }

  private coordinatePut(request: PutRequest, origin: Origin, out: Effects): void {
    const prefs = this.ring.preferenceList(request.key, this.opts.n);
    if (!prefs.includes(this.id)) return this.forwardPut(request, origin, prefs, out);
    const targets = this.liveReplicas(request.key);
    if (targets.length < request.w) {
      this.coordinator.stats.quorumFailures++;
      return out.answer(origin, { ok: false, error: 'quorum', needed: request.w, acked: 0 });
    }
    const local = this.read(request.key);
    const written = update(local, request.context, this.opts.actor, request.value);
    const opId = this.allocateId();
    const timerId = this.allocateId();
    out.setTimer(timerId, request.timeoutMs);
    this.coordinator.startPut(opId, origin, request.w, targets, { timerId });
    this.persist(request.key, written.record, { kind: 'self-ack', opId }, out);
    for (const target of targets) {
      if (target === this.id) continue;
      out.send(target, { type: 'replica-put', opId, key: request.key, record: written.record });
    }
  }

  private coordinateGet(request: GetRequest, origin: Origin, out: Effects): void {
    const targets = this.liveReplicas(request.key);
    if (targets.length < request.r) {
      this.coordinator.stats.quorumFailures++;
      return out.answer(origin, { ok: false, error: 'quorum', needed: request.r, acked: 0 });
    }
    const opId = this.allocateId();
    const timerId = this.allocateId();
    out.setTimer(timerId, request.timeoutMs);
    this.coordinator.startGet(opId, origin, request.r, targets, { timerId });
    for (const target of targets) out.send(target, { type: 'replica-get', opId, key: request.key });
  }

  private forwardPut(request: PutRequest, origin: Origin, prefs: readonly NodeId[], out: Effects) {
    const target = prefs.find((node) => !this.down.has(node));
    if (origin.kind === 'peer' || target === undefined) {
      const why = target === undefined ? 'no replica of the key is up' : 'not a replica of the key';
      return out.answer(origin, { ok: false, error: 'unavailable', message: why });
    }
    const fwdId = this.allocateId();
    const timerId = this.allocateId();
    this.forwards.set(fwdId, { reqId: origin.reqId, timerId });
    this.forwardByTimer.set(timerId, fwdId);
    this.counters.forwarded++;
    out.setTimer(timerId, request.timeoutMs + this.opts.forwardSlackMs);
    out.send(target, { type: 'forward', fwdId, request });
  }

  private onPeerMessage(from: NodeId, raw: unknown, out: Effects): void {
    const message = parsePeerMessage(raw);
    if (message === null) {
      this.counters.malformedMessages++;
      return;
    }
    this.onValidMessage(from, message, out);
  }

  private onValidMessage(from: NodeId, message: PeerMessage, out: Effects): void {
    switch (message.type) {
      case 'replica-put':
        return this.onReplicaPut(from, message.opId, message.key, message.record, out);
      case 'replica-put-ack':
        return this.coordinator.onPutAck(message.opId, from, out);
      case 'replica-get':
        this.counters.replicaGets++;
        return out.send(from, {
          type: 'replica-get-reply',
          opId: message.opId,
          record: this.read(message.key) ?? null,
        });
      case 'replica-get-reply':
        return this.coordinator.onGetReply(message.opId, from, message.record, out);
      case 'forward':
        return this.coordinate(message.request, { kind: 'peer', from, fwdId: message.fwdId }, out);
      case 'forward-reply':
        return this.onForwardReply(message.fwdId, message.result, out);
    }
  }

  private onReplicaPut(from: NodeId, opId: number, key: string, incoming: KeyRecord, out: Effects) {
    this.counters.replicaPuts++;
    const local = this.read(key);
    const merged = sync(local ?? EMPTY_RECORD, incoming); // also normalizes a peer's record
    const unchanged = local !== undefined && sameDots(local, merged) && !this.overlay.has(key);
    if (unchanged) return out.send(from, { type: 'replica-put-ack', opId });
    this.persist(key, merged, { kind: 'peer-ack', to: from, opId }, out);
  }

  private onForwardReply(fwdId: number, result: ClientResult, out: Effects): void {
    const pending = this.forwards.get(fwdId);
    if (pending === undefined) {
      this.coordinator.stats.lateReplies++;
      return;
    }
    this.forwards.delete(fwdId);
    this.forwardByTimer.delete(pending.timerId);
    out.cancelTimer(pending.timerId);
    out.reply(pending.reqId, result);
  }

  private onTimer(timerId: number, out: Effects): void {
    if (this.coordinator.onTimer(timerId, out)) return;
    const fwdId = this.forwardByTimer.get(timerId);
    if (fwdId === undefined) return; // cancelled earlier: harmless
    const pending = this.forwards.get(fwdId);
    assert(pending !== undefined, 'a forward timer always has its forward');
    this.forwards.delete(fwdId);
    this.forwardByTimer.delete(timerId);
    out.reply(pending.reqId, {
      ok: false,
      error: 'timeout',
      message: 'coordinator did not answer',
    });
  }

  private persist(key: string, record: KeyRecord, then: AfterPersist, out: Effects): void {
    const token = this.allocateId();
    this.overlay.set(key, record);
    this.persists.set(token, { key, record, then });
    out.persist(token, [{ key, record }]);
  }

  private onPersisted(token: number, out: Effects): void {
    const pending = this.persists.get(token);
    assert(pending !== undefined, 'persisted tokens are ones the core issued');
    this.persists.delete(token);
    if (this.overlay.get(pending.key) === pending.record) this.overlay.delete(pending.key);
    const then = pending.then;
    if (then.kind === 'self-ack') this.coordinator.onPutAck(then.opId, this.id, out);
    else out.send(then.to, { type: 'replica-put-ack', opId: then.opId });
  }

  private allocateId(): number {
    const id = this.nextId++;
    assert(Number.isSafeInteger(id), 'ids stay safe integers');
    return id;
  }
}

function invalid(message: string): ClientResult {
  return { ok: false, error: 'invalid', message };
}

/** True when both records hold the same set of dots (records are kept sorted by dot). */
function sameDots(a: KeyRecord, b: KeyRecord): boolean {
  if (a.siblings.length !== b.siblings.length) return false;
  return a.siblings.every((s, i) => {
    const t = b.siblings[i]!;
    return s.dot[0] === t.dot[0] && s.dot[1] === t.dot[1];
  });
}
