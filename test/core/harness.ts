/**
 * A tiny deterministic network for NodeCore unit tests: messages, persists and timers are
 * queued and delivered only when a test says so. (The full simulator with seeded faults is
 * src/sim/; this harness exists so core behaviour is testable with plain function calls.)
 * Each node's store is the simulator's SimStorage, which passes the StorageEngine contract
 * (test/storage/): a completed persist is applied to it, a crash keeps what was applied.
 */

import { coreLimits, DEFAULT_CONFIG } from '../../src/config.js';
import type { Effect } from '../../src/core/effects.js';
import type { ClientRequest, ClientResult } from '../../src/core/messages.js';
import { type CoreLimits, type Input, NodeCore } from '../../src/core/node.js';
import { Ring } from '../../src/core/ring.js';
import type { RingState } from '../../src/core/ring-state.js';
import { type NodeId, nodeId, type VersionVector } from '../../src/core/types.js';
import { SimStorage } from '../../src/sim/sim-storage.js';

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: unknown;
}

export class TestNet {
  readonly ids: NodeId[];
  readonly ring: Ring;
  readonly cores = new Map<NodeId, NodeCore>();
  readonly stores = new Map<NodeId, SimStorage>();
  readonly replies = new Map<number, ClientResult>();
  readonly inflight: Envelope[] = [];
  readonly persists: Array<{ node: NodeId; token: number; writes: Effect & { kind: 'persist' } }> =
    [];
  readonly timers: Array<{ node: NodeId; timerId: number; delayMs: number; dueMs: number }> = [];
  /** Virtual time, for nodes with gossip membership (`advance` moves it). */
  nowMs = 0;
  private randomState = 1;
  /** Each node's wall clock minus WALL_EPOCH_MS + nowMs (expiry deadlines); absent: 0. */
  readonly clockOffsetsMs = new Map<NodeId, number>();
  /** Messages to or from these nodes are dropped. */
  readonly isolated = new Set<NodeId>();
  private nextReqId = 1;

  constructor(
    nodes: number,
    readonly n = 3,
    partitionCount = 64,
    /** Run gossip membership (a virtual clock and a seeded random source are injected). */
    readonly membership = false,
    /** Each node's address and starting incarnation (none: no address, incarnation 0). */
    public own: (id: NodeId) => { address?: string; incarnation?: number } = () => ({}),
  ) {
    this.ids = Array.from({ length: nodes }, (_, i) => nodeId(`n${i + 1}`));
    this.ring = Ring.create(this.ids, partitionCount);
    for (const id of this.ids) {
      this.stores.set(id, new SimStorage(id));
      this.cores.set(id, this.boot(id));
    }
  }

  /** A NodeCore over the node's store (used at start and to restart after a crash). */
  boot(id: NodeId, limits: Partial<CoreLimits> = {}, ringState?: RingState): NodeCore {
    const store = this.stores.get(id)!;
    const all = { ...coreLimits(DEFAULT_CONFIG), tombstoneGraceMs: 100, ...limits };
    return new NodeCore({
      id,
      actor: `${id}.a`,
      ring: this.ring,
      ...(ringState === undefined ? {} : { ringState }),
      ...(this.membership ? { now: () => this.nowMs, random: () => this.random() } : {}),
      ...this.own(id),
      n: this.n,
      forwardSlackMs: 100,
      limits: all,
      store,
      wallClockMs: () => this.wallMs(id),
    });
  }

  /** A node's wall clock (Unix ms): expiry deadlines are set and judged by it. */
  wallMs(id: NodeId): number {
    return WALL_EPOCH_MS + this.nowMs + (this.clockOffsetsMs.get(id) ?? 0);
  }

  /** Starts a node that is not in the ring yet, from the cluster's current ring state. */
  addNode(id: NodeId, ringState: RingState, limits: Partial<CoreLimits> = {}): void {
    this.ids.push(id);
    this.stores.set(id, new SimStorage(id));
    this.cores.set(id, this.boot(id, limits, ringState));
  }

  /** Crash and restart: volatile state is lost, pending persists never happen, storage stays. */
  restart(id: NodeId, limits: Partial<CoreLimits> = {}): void {
    this.cores.set(id, this.boot(id, limits));
    const keep = (e: { node: NodeId }) => e.node !== id;
    this.persists.splice(0, this.persists.length, ...this.persists.filter(keep));
    this.timers.splice(0, this.timers.length, ...this.timers.filter(keep));
  }

  core(id: NodeId): NodeCore {
    return this.cores.get(id)!;
  }

  /** Every `peer-address` effect so far, in order. */
  readonly learned: { node: NodeId; peer: NodeId; address: string }[] = [];

  /** Feeds an input to a node and queues the effects. */
  input(node: NodeId, input: Input): void {
    for (const effect of this.core(node).step(input)) this.enqueue(node, effect);
  }

  request(node: NodeId, request: ClientRequest): number {
    const reqId = this.nextReqId++;
    this.input(node, { kind: 'request', reqId, request });
    return reqId;
  }

  /** Delivers queued messages and completes persists until nothing is left (bounded). */
  settle(stepsMax = 10_000): void {
    for (let steps = 0; steps < stepsMax; steps++) {
      if (!this.deliverOne() && !this.persistOne()) return;
    }
    throw new Error('network did not settle');
  }

  deliverOne(): boolean {
    const envelope = this.inflight.shift();
    if (envelope === undefined) return false;
    if (this.isolated.has(envelope.to) || this.isolated.has(envelope.from)) return true;
    this.input(envelope.to, { kind: 'message', from: envelope.from, message: envelope.message });
    return true;
  }

  persistOne(): boolean {
    const next = this.persists.shift();
    if (next === undefined) return false;
    this.stores.get(next.node)!.apply(next.writes.writes);
    this.input(next.node, { kind: 'persisted', token: next.token });
    return true;
  }

  /** A small seeded LCG (deterministic tests). */
  private random(): number {
    this.randomState = (this.randomState * 1103515245 + 12345) % 2147483648;
    return this.randomState / 2147483648;
  }

  /** Moves virtual time forward in steps, firing timers as they fall due and settling. */
  advance(ms: number, stepMs = 50): void {
    for (let elapsed = 0; elapsed < ms; elapsed += stepMs) {
      this.nowMs += stepMs;
      const due = this.timers.filter((t) => t.dueMs <= this.nowMs);
      this.timers.splice(0, this.timers.length, ...this.timers.filter((t) => t.dueMs > this.nowMs));
      for (const t of due) this.input(t.node, { kind: 'timer', timerId: t.timerId });
      this.settle(1_000_000);
    }
  }

  /** Fires every pending timer (as if their delays all passed). */
  fireTimers(): void {
    const due = this.timers.splice(0);
    for (const t of due) this.input(t.node, { kind: 'timer', timerId: t.timerId });
  }

  reply(reqId: number): ClientResult | undefined {
    return this.replies.get(reqId);
  }

  put(node: NodeId, key: string, value: string | null, context: VersionVector = [], w = 2) {
    const bytes = value === null ? null : new TextEncoder().encode(value);
    return this.request(node, { op: 'put', key, value: bytes, context, w, timeoutMs: 1000 });
  }

  get(node: NodeId, key: string, r = 2) {
    return this.request(node, { op: 'get', key, r, timeoutMs: 1000 });
  }

  private enqueue(node: NodeId, effect: Effect): void {
    switch (effect.kind) {
      case 'send':
        this.inflight.push({ from: node, to: effect.to, message: effect.message });
        return;
      case 'reply':
        if (this.replies.has(effect.reqId))
          throw new Error(`request ${effect.reqId} answered twice`);
        this.replies.set(effect.reqId, effect.result);
        return;
      case 'set-timer':
        this.timers.push({
          node,
          timerId: effect.timerId,
          delayMs: effect.delayMs,
          dueMs: this.nowMs + effect.delayMs,
        });
        return;
      case 'cancel-timer': {
        const i = this.timers.findIndex((t) => t.node === node && t.timerId === effect.timerId);
        if (i >= 0) this.timers.splice(i, 1);
        return;
      }
      case 'persist':
        this.persists.push({ node, token: effect.token, writes: effect });
        return;
      case 'peer-address':
        this.learned.push({ node, peer: effect.peer, address: effect.address });
        return;
    }
  }
}

/** The Unix ms a TestNet's virtual time 0 stands for. */
export const WALL_EPOCH_MS = 1_700_000_000_000;

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
