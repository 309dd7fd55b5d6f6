/**
 * The driver under the golden scenarios: NodeCores over in-memory storage engines, a network
 * that holds every message until a scenario delivers or drops it, persists that complete only
 * when asked, and a virtual clock that fires timers in due order. It uses only NodeCore's public
 * surface (constructor, `step`, `stats`, `read`) and prints one trace line per input a node
 * handles, followed by that input's effects, indented:
 *
 *     n2 <- n1 replica-put op1 a=[n1.a:1=x]     a message delivered to n2
 *       persist p2 data/a=[n1.a:1=x]            an effect of that step
 *       -> n1 replica-put-ack op1               a message it sends
 *
 * Lines of hidden categories (message types, `timer`, `persist`) are left out; a step whose
 * every line is hidden is left out entirely.
 */
import { coreLimits, DEFAULT_CONFIG } from '../../../src/config.js';
import type { Effect } from '../../../src/core/effects.js';
import type { ClientRequest, ClientResult, PeerMessage } from '../../../src/core/messages.js';
import { type CoreLimits, type Input, NodeCore, RING_META } from '../../../src/core/node.js';
import { Ring } from '../../../src/core/ring.js';
import { isRingState, type RingState } from '../../../src/core/ring-state.js';
import { type NodeId, nodeId, type PersistWrite } from '../../../src/core/types.js';
import { validateBatch } from '../../../src/storage/engine.js';
import { MemoryStorage } from '../../../src/storage/memory.js';
import { describeMessage, describePersist, describeRequest, describeResult } from './describe.js';
import { IdNames } from './names.js';

export interface ClusterOptions {
  readonly nodes: number;
  readonly n: number;
  readonly partitionCount: number;
  /** Run gossip membership (SWIM): the nodes get the virtual clock and a seeded random source. */
  readonly gossip: boolean;
  readonly limits: Partial<CoreLimits>;
}

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: PeerMessage;
}

interface PendingPersist {
  readonly node: NodeId;
  readonly token: number;
  readonly writes: readonly PersistWrite[];
}

interface PendingTimer {
  readonly node: NodeId;
  readonly timerId: number;
  readonly dueMs: number;
  readonly seq: number;
}

interface Host {
  core: NodeCore | null;
  readonly store: MemoryStorage;
}

/** Which queued messages a `deliver` or `drop` takes. */
export interface MessageFilter {
  readonly from?: NodeId;
  readonly to?: NodeId;
  readonly type?: string;
}

/** Bounds on the loops a scenario can start, so a livelock fails instead of hanging. */
const SETTLE_STEPS_MAX = 100_000;
const TIMER_FIRINGS_MAX = 100_000;
/** Node ids print as one character per partition owner (describeRingState). */
const NODES_MAX = 9;

export class TraceCluster {
  readonly ids: NodeId[] = [];
  readonly ring: Ring;
  readonly limits: CoreLimits;
  readonly queue: Envelope[] = [];
  readonly persists: PendingPersist[] = [];
  readonly timers: PendingTimer[] = [];
  readonly replies = new Map<number, ClientResult>();
  /** Every request id issued, in order (a request never answered is a hang). */
  readonly requested: number[] = [];
  readonly isolated = new Set<NodeId>();
  /** Trace categories left out of the output: message types, `timer`, `persist`. */
  readonly hidden = new Set<string>();
  nowMs = 0;
  private readonly hosts = new Map<NodeId, Host>();
  private readonly names = new IdNames();
  private lines: string[] = [];
  private timerSeq = 0;
  private randomState = 1;
  private nextReqId = 1;

  constructor(readonly opts: ClusterOptions) {
    if (opts.nodes < 1 || opts.nodes > NODES_MAX) throw new Error(`nodes must be 1..${NODES_MAX}`);
    const initial = Array.from({ length: opts.nodes }, (_, i) => nodeId(`n${i + 1}`));
    this.ring = Ring.create(initial, opts.partitionCount);
    const defaults = coreLimits(DEFAULT_CONFIG);
    this.limits = { ...defaults, ...(opts.gossip ? {} : { swim: null }), ...opts.limits };
    for (const id of initial) this.boot(id);
  }

  /** The trace lines printed since the last call. */
  take(): string[] {
    const lines = this.lines;
    this.lines = [];
    return lines;
  }

  print(line: string): void {
    this.lines.push(line);
  }

  host(id: NodeId): Host {
    const host = this.hosts.get(id);
    if (host === undefined) throw new Error(`unknown node ${id}`);
    return host;
  }

  core(id: NodeId): NodeCore {
    const core = this.host(id).core;
    if (core === null) throw new Error(`node ${id} is crashed`);
    return core;
  }

  /** Starts a node over its storage (a new one, or the one it had before a crash). */
  boot(id: NodeId, ringState?: RingState): void {
    if (!this.hosts.has(id)) {
      if (this.ids.length >= NODES_MAX) throw new Error(`at most ${NODES_MAX} nodes`);
      this.ids.push(id);
      this.hosts.set(id, { core: null, store: new MemoryStorage() });
    }
    const host = this.host(id);
    if (host.core !== null) throw new Error(`node ${id} is running`);
    host.core = new NodeCore({
      id,
      actor: `${id}.a`,
      ring: this.ring,
      ...(ringState === undefined ? {} : { ringState }),
      ...(this.opts.gossip ? { now: () => this.nowMs, random: () => this.random() } : {}),
      n: this.opts.n,
      forwardSlackMs: 100,
      limits: this.limits,
      store: host.store,
    });
    this.step(id, { kind: 'start' }, `${id} <- start`);
  }

  /** The ring state a node last made durable (the initial one before any change). */
  durableRingState(id: NodeId): RingState | undefined {
    const stored = this.host(id).store.getMeta(RING_META);
    return isRingState(stored, this.ring.partitionCount) ? stored : undefined;
  }

  /** Feeds one input to a node and queues its effects; `header` names the input in the trace. */
  step(node: NodeId, input: Input, header: string, category = ''): void {
    const effects = this.core(node).step(input);
    const lines = effects.flatMap((effect) => this.apply(node, effect));
    if (lines.length > 0 || !this.hidden.has(category)) this.print(header);
    for (const line of lines) this.print(`  ${line}`);
  }

  request(node: NodeId, request: ClientRequest): number {
    const reqId = this.nextReqId++;
    this.requested.push(reqId);
    this.step(
      node,
      { kind: 'request', reqId, request },
      `${node} <- req${reqId} ${describeRequest(request)}`,
    );
    return reqId;
  }

  /** Delivers the queued messages matching `filter` (at most `count`), oldest first. */
  deliver(filter: MessageFilter, count = Number.POSITIVE_INFINITY): number {
    return this.takeMatching(filter, count).map((e) => this.deliverOne(e)).length;
  }

  /** Drops the queued messages matching `filter` (at most `count`), oldest first. */
  drop(filter: MessageFilter, count = Number.POSITIVE_INFINITY): number {
    const dropped = this.takeMatching(filter, count);
    for (const e of dropped) this.printDrop(e, 'dropped');
    return dropped.length;
  }

  /** Completes the pending persists of `nodes` (all nodes when empty), oldest first. */
  persist(nodes: readonly NodeId[]): number {
    const due = this.persists.filter((p) => nodes.length === 0 || nodes.includes(p.node));
    for (const p of due) {
      this.persists.splice(this.persists.indexOf(p), 1);
      this.complete(p);
    }
    return due.length;
  }

  /** Delivers messages and completes persists until none is left. */
  settle(): void {
    for (let steps = 0; steps < SETTLE_STEPS_MAX; steps++) {
      const envelope = this.queue.shift();
      if (envelope !== undefined) {
        this.deliverOne(envelope);
        continue;
      }
      const persist = this.persists.shift();
      if (persist === undefined) return;
      this.complete(persist);
    }
    throw new Error('the cluster did not settle');
  }

  /** Moves the clock forward, firing timers in due order (settling after each when asked). */
  advance(ms: number, settle: boolean): void {
    const endMs = this.nowMs + ms;
    for (let firings = 0; firings < TIMER_FIRINGS_MAX; firings++) {
      const next = this.nextTimer(endMs);
      if (next === undefined) {
        this.nowMs = endMs;
        return;
      }
      this.timers.splice(this.timers.indexOf(next), 1);
      this.nowMs = next.dueMs;
      this.fire(next);
      if (settle) this.settle();
    }
    throw new Error('too many timers fired');
  }

  /** The earliest timer due by `endMs` (ties: the one set first). */
  nextTimer(endMs: number): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.dueMs > endMs) continue;
      if (
        best === undefined ||
        t.dueMs < best.dueMs ||
        (t.dueMs === best.dueMs && t.seq < best.seq)
      )
        best = t;
    }
    return best;
  }

  /** A crash: volatile state, pending persists and timers are gone; storage stays. */
  crash(id: NodeId): void {
    this.core(id);
    this.host(id).core = null;
    const lost = this.persists.filter((p) => p.node === id).length;
    const keep = <T extends { node: NodeId }>(list: T[]) =>
      list.splice(0, list.length, ...list.filter((e) => e.node !== id));
    keep(this.persists);
    keep(this.timers);
    this.print(`${id} crashed (${lost} persists lost)`);
  }

  restart(id: NodeId): void {
    this.names.restarted(id);
    this.boot(id);
  }

  /** Tells `to` (every other running node when empty) that `peer` went down or came back. */
  report(peer: NodeId, up: boolean, to: readonly NodeId[]): void {
    const audience =
      to.length > 0 ? to : this.ids.filter((id) => id !== peer && this.isRunning(id));
    for (const id of audience) {
      this.step(
        id,
        { kind: 'peer-status', peer, up },
        `${id} <- peer-status ${peer} ${up ? 'up' : 'down'}`,
      );
    }
  }

  isRunning(id: NodeId): boolean {
    return this.host(id).core !== null;
  }

  private takeMatching(filter: MessageFilter, count: number): Envelope[] {
    const taken: Envelope[] = [];
    for (let i = 0; i < this.queue.length && taken.length < count; i++) {
      const e = this.queue[i]!;
      if (filter.from !== undefined && e.from !== filter.from) continue;
      if (filter.to !== undefined && e.to !== filter.to) continue;
      if (filter.type !== undefined && e.message.type !== filter.type) continue;
      taken.push(e);
      this.queue.splice(i, 1);
      i--;
    }
    return taken;
  }

  private deliverOne(e: Envelope): void {
    if (this.isolated.has(e.from) || this.isolated.has(e.to)) return this.printDrop(e, 'isolated');
    if (!this.isRunning(e.to)) return this.printDrop(e, `${e.to} is down`);
    const header = `${e.to} <- ${e.from} ${describeMessage(e.message, e.from, e.to, this.names)}`;
    this.step(e.to, { kind: 'message', from: e.from, message: e.message }, header, e.message.type);
  }

  private printDrop(e: Envelope, why: string): void {
    if (this.hidden.has(e.message.type)) return;
    const message = describeMessage(e.message, e.from, e.to, this.names);
    this.print(`drop ${e.from}->${e.to} ${message} (${why})`);
  }

  private complete(p: PendingPersist): void {
    validateBatch(p.writes);
    void this.host(p.node).store.write(p.writes); // applied synchronously; resolves later
    const token = this.names.name('p', p.node, p.token);
    this.step(
      p.node,
      { kind: 'persisted', token: p.token },
      `${p.node} <- persisted ${token}`,
      'persist',
    );
  }

  private fire(t: PendingTimer): void {
    const name = this.names.name('t', t.node, t.timerId);
    this.step(t.node, { kind: 'timer', timerId: t.timerId }, `${t.node} <- timer ${name}`, 'timer');
  }

  /** Queues one effect and returns its trace line ([] when its category is hidden). */
  private apply(node: NodeId, effect: Effect): string[] {
    const visible = (category: string, line: string) => (this.hidden.has(category) ? [] : [line]);
    switch (effect.kind) {
      case 'send': {
        this.queue.push({ from: node, to: effect.to, message: effect.message });
        const line = `-> ${effect.to} ${describeMessage(effect.message, node, effect.to, this.names)}`;
        return visible(effect.message.type, line);
      }
      case 'reply':
        if (this.replies.has(effect.reqId)) throw new Error(`req${effect.reqId} answered twice`);
        this.replies.set(effect.reqId, effect.result);
        return [`reply req${effect.reqId} ${describeResult(effect.result)}`];
      case 'set-timer': {
        const seq = this.timerSeq++;
        this.timers.push({
          node,
          timerId: effect.timerId,
          dueMs: this.nowMs + effect.delayMs,
          seq,
        });
        const name = this.names.name('t', node, effect.timerId);
        return visible('timer', `timer ${name} ${effect.delayMs}ms`);
      }
      case 'cancel-timer': {
        const i = this.timers.findIndex((t) => t.node === node && t.timerId === effect.timerId);
        if (i >= 0) this.timers.splice(i, 1);
        return visible('timer', `cancel ${this.names.name('t', node, effect.timerId)}`);
      }
      case 'persist': {
        this.persists.push({ node, token: effect.token, writes: effect.writes });
        const name = this.names.name('p', node, effect.token);
        return visible('persist', `persist ${name} ${describePersist(effect.writes)}`);
      }
      case 'peer-address':
        return visible('address', `address ${effect.peer} ${effect.address}`);
    }
  }

  /** A small seeded LCG: one source for every node, drawn in a deterministic order. */
  private random(): number {
    this.randomState = (this.randomState * 1103515245 + 12345) % 2147483648;
    return this.randomState / 2147483648;
  }
}
