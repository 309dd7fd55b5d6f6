/**
 * The deterministic simulator: one thread, virtual time, one seeded Prng. It hosts a NodeCore per
 * node (SimNode), carries messages over a faulty Network, completes persists after sampled disk
 * latencies, and serves simulated clients that record a History for the checker.
 *
 * Scenario tests drive it directly:
 *
 *   const sim = new Simulator(simOptions({ nodes: 5, n: 3 }), new Prng(7));
 *   const c = sim.client('c1');
 *   const put = c.put('k');                       // returns an OpHandle at once
 *   sim.runUntil(() => put.op.outcome !== 'pending', 5_000);
 *   sim.crash(nodeId('n2'));  sim.network.partition([[a, b], [c]]);  sim.runFor(1_000);
 *   sim.quiesce();  // heal, restart, resume
 *
 * Membership changes: `addNode()` hosts a new node booted with the newest ring state (it joins
 * once a `ring-change` admin request says so), `admin(node, request)` sends an operator request,
 * `retire(id)` takes a node away for good (a removed node: crashed, never restarted, its disk
 * no longer counts). `ring` is the ring of the newest state any node adopted (RingTracker), so
 * clients follow a committed change and the checks use the final ring.
 *
 * Failure detection: after a crash or restart every other running node gets a `peer-status`
 * input after a sampled detection delay (in order per observer and peer). A restarted node is told
 * at once which nodes are down, as the worker launcher does. Partitions are not announced: they
 * show only as timeouts.
 */

import type { RetryPolicy } from '../client/retry.js';
import type { RouteView } from '../client/router.js';
import { assert } from '../core/assert.js';
import type {
  AdminRequest,
  DataRequest as ClientRequest,
  ClientResult,
  PeerMessage,
} from '../core/messages.js';
import type { Input } from '../core/node.js';
import { Ring } from '../core/ring.js';
import type { RingState } from '../core/ring-state.js';
import { type KeyRecord, type NodeId, nodeId, parseHintKey } from '../core/types.js';
import { type Dist, sampleDist } from '../util/distributions.js';
import { Prng } from '../util/prng.js';
import { SimClient } from './client.js';
import { EventQueue } from './event-queue.js';
import { History } from './history.js';
import { Network, type NetworkOptions } from './network.js';
import { RingTracker } from './ring-tracker.js';
import { type CoreTunables, type NodeEnv, SimNode } from './sim-node.js';
import { SimStorage } from './sim-storage.js';
import { keyOf, recordSummary, summarize } from './trace.js';

export interface SimOptions {
  readonly nodes: number;
  readonly n: number;
  /** Default quorums of the simulated clients. */
  readonly r: number;
  readonly w: number;
  readonly partitionCount: number;
  readonly requestTimeoutMs: number;
  readonly clientTimeoutSlackMs: number;
  readonly retry: RetryPolicy;
  readonly network: NetworkOptions;
  /** Time for a persist batch to become durable. */
  readonly diskLatency: Dist;
  /** Time until the other nodes learn that a node crashed or restarted. */
  readonly detectionDelay: Dist;
  /** Core options beyond identity (n is taken from `n`). */
  readonly tunables: Omit<CoreTunables, 'n'>;
  /** Events one simulator may run before it gives up (a livelock guard). */
  readonly eventsMax: number;
  /**
   * Nodes run gossip membership and SWIM failure detection (member-view.ts) on virtual time,
   * drawing from a random stream of their own so the rest of the seed plays out unchanged.
   * @default false
   */
  readonly gossip?: boolean;
}

/** Salt of the gossip random stream (see SimOptions.gossip). */
const GOSSIP_STREAM_SALT = 0x5bd1e995;

/** A run exceeded its event budget. */
export class SimBudgetError extends Error {
  override name = 'SimBudgetError';
}

/** A core assertion or exception, caught at the node boundary. */
export interface CoreFault {
  readonly node: NodeId;
  readonly atMs: number;
  readonly message: string;
}

type Action = () => void;

/** Receives one line per message, persist, client request and fault; `key` when it has one. */
export type Tracer = (line: string, key: string | null) => void;

/** Called with the answer to an admin request. */
export type AdminCallback = (result: ClientResult) => void;

export class Simulator {
  /** The ring the cluster started with (version 0), which every node is configured with. */
  readonly initialRing: Ring;
  /** The ring state each node adopted, and the newest one. */
  readonly rings: RingTracker;
  readonly network: Network;
  /** The random stream of gossip membership, when SimOptions.gossip is on. */
  private readonly gossipRandom: Prng | null;
  readonly history = new History();
  readonly nodes = new Map<NodeId, SimNode>();
  readonly clients = new Map<string, SimClient>();
  readonly faultCounts = new Map<string, number>();
  readonly coreFaults: CoreFault[] = [];
  private readonly queue = new EventQueue<Action>();
  private readonly routes = new Map<number, { client: SimClient; key: string }>();
  private readonly adminRoutes = new Map<number, AdminCallback>();
  /** Every node ever hosted, in the order added. */
  private readonly hosted: NodeId[] = [];
  /** Nodes taken away for good (removed): never restarted, excluded from `ids` and the data. */
  private readonly retired = new Set<NodeId>();
  private idsValue: readonly NodeId[] = [];
  /** Latest scheduled peer-status time per `observer>peer`, so notices never overtake. */
  private readonly noticeDueMs = new Map<string, number>();
  private reqIdNext = 1;
  private nowMsValue = 0;
  eventsRun = 0;
  /** Set to follow a run line by line (debugging a seed); null costs nothing. */
  tracer: Tracer | null = null;

  constructor(
    readonly options: SimOptions,
    readonly prng: Prng,
  ) {
    assert(options.nodes >= 1 && options.n >= 1, 'at least one node and one replica');
    assert(options.n <= options.nodes, 'n is at most the node count');
    const ids = Array.from({ length: options.nodes }, (_, i) => nodeId(`n${i + 1}`));
    this.gossipRandom = options.gossip ? new Prng((prng.seed ^ GOSSIP_STREAM_SALT) >>> 0) : null;
    this.initialRing = Ring.create(ids, options.partitionCount);
    this.rings = new RingTracker(this.initialRing, options.n);
    this.network = new Network(prng, options.network);
    for (const id of ids) this.host(id, null);
    for (const node of this.nodes.values()) node.start();
  }

  /** Nodes hosted and not retired: the initial ones, joiners, and those that left. */
  get ids(): readonly NodeId[] {
    return this.idsValue;
  }

  /** The ring requests are routed by under the newest ring state (the committed ring). */
  get ring(): Ring {
    return this.rings.ring;
  }

  /** The newest ring state any node adopted. */
  get ringState(): RingState {
    return this.rings.state;
  }

  private host(id: NodeId, bootState: RingState | null): SimNode {
    assert(!this.nodes.has(id), `node ${id} is hosted once`);
    const storage = new SimStorage(id);
    storage.onApply((change) => {
      const reap = change.ns !== 'data' || this.rings.replicates(id, change.key);
      this.history.observe(change, reap);
      const what = `${change.ns} ${change.key} ${recordSummary(change.before)} => ${recordSummary(change.after)}`;
      this.trace(
        `disk ${id} ${what}`,
        change.ns === 'data' ? change.key : parseHintKey(change.key).key,
      );
    });
    storage.onMeta((name, value) => this.rings.onMeta(id, name, value));
    this.rings.track(id, bootState);
    const node = new SimNode(id, storage, this.nodeEnv(), bootState);
    this.nodes.set(id, node);
    this.hosted.push(id);
    this.idsValue = this.hosted.filter((other) => !this.retired.has(other));
    return node;
  }

  // -------------------------------------------------------------------------------------------
  // Membership

  /**
   * Hosts and starts a new node (`n<k>`, the next free number) booted with the newest ring
   * state; it is no member until a `join` change for it commits. Told at once which nodes are down.
   */
  addNode(): NodeId {
    const id = nodeId(`n${this.hosted.length + 1}`);
    this.count('add-node');
    this.trace(`add-node ${id} with ring v${this.ringState.version}`, null);
    const node = this.host(id, this.ringState);
    node.start(this.downNotices(id));
    return id;
  }

  /**
   * Takes `id` away for good (a node about to be removed from the ring): crashed if it runs,
   * never restarted, no longer in `ids`, its disk no longer counts.
   */
  retire(id: NodeId): void {
    if (this.node(id).state !== 'down') this.crash(id);
    this.count('retire');
    this.trace(`retire ${id}`, null);
    this.retired.add(id);
    this.idsValue = this.hosted.filter((other) => !this.retired.has(other));
  }

  isRetired(id: NodeId): boolean {
    return this.retired.has(id);
  }

  /** Sends an operator request to `node`; `done` gets its answer (never, if the node crashes). */
  admin(node: NodeId, request: AdminRequest, done: AdminCallback): void {
    const reqId = this.reqIdNext++;
    this.adminRoutes.set(reqId, done);
    const target = this.node(node);
    const incarnation = target.incarnation;
    this.after(0, () => {
      this.trace(`admin req ${reqId} -> ${node} ${summarize(request)}`, null);
      target.input({ kind: 'request', reqId, request }, incarnation);
    });
  }

  nowMs(): number {
    return this.nowMsValue;
  }

  node(id: NodeId | string): SimNode {
    const node = this.nodes.get(id as NodeId);
    assert(node !== undefined, `node ${id} exists`);
    return node;
  }

  /** Schedules an action at virtual time `timeMs` (clamped to now). */
  at(timeMs: number, action: Action): void {
    this.queue.push(Math.max(timeMs, this.nowMsValue), action);
  }

  after(delayMs: number, action: Action): void {
    this.at(this.nowMsValue + delayMs, action);
  }

  /** Runs the next event; false when there is none. */
  step(): boolean {
    const next = this.queue.pop();
    if (next === undefined) return false;
    if (++this.eventsRun > this.options.eventsMax) {
      throw new SimBudgetError(`more than ${this.options.eventsMax} events: a livelock?`);
    }
    assert(next.timeMs >= this.nowMsValue, 'virtual time never goes back');
    this.nowMsValue = next.timeMs;
    next.value();
    return true;
  }

  /** Runs events until `done()` holds or `msMax` virtual ms pass; returns whether it holds. */
  runUntil(done: () => boolean, msMax: number): boolean {
    const deadlineMs = this.nowMsValue + msMax;
    for (;;) {
      if (done()) return true;
      const next = this.queue.peek();
      if (next === undefined || next.timeMs > deadlineMs) {
        this.nowMsValue = Math.max(this.nowMsValue, deadlineMs);
        return done();
      }
      this.step();
    }
  }

  runFor(ms: number): void {
    this.runUntil(() => false, ms);
  }

  get pendingEvents(): number {
    return this.queue.size;
  }

  client(name: string): SimClient {
    let client = this.clients.get(name);
    if (client === undefined) {
      const { r, w } = this.options;
      client = new SimClient(name, this.clientEnv(), { r, w });
      this.clients.set(name, client);
    }
    return client;
  }

  /** Every node's `data` records (the checker's final state); retired nodes' disks do not count. */
  dataSnapshot(): Map<NodeId, Map<string, KeyRecord>> {
    return new Map(this.ids.map((id) => [id, this.node(id).storage.snapshot('data')]));
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  crash(id: NodeId): void {
    this.count('crash');
    this.trace(`crash ${id}`, null);
    this.node(id).crash();
    for (const client of this.clients.values()) client.onNodeDown(id);
    this.announce(id, false);
  }

  restart(id: NodeId, options: { wipe?: boolean } = {}): void {
    this.count(options.wipe === true ? 'restart-wiped' : 'restart');
    this.trace(`restart ${id}`, null);
    assert(!this.retired.has(id), `retired node ${id} stays down`);
    this.node(id).restart(this.downNotices(id), options);
    this.announce(id, true);
  }

  /** `peer-status` inputs telling a (re)starting node which others are down (retired too). */
  private downNotices(id: NodeId): Input[] {
    const down = this.hosted.filter((other) => other !== id && this.node(other).state === 'down');
    return down.map((peer) => ({ kind: 'peer-status', peer, up: false }));
  }

  pause(id: NodeId): void {
    this.count('pause');
    this.node(id).pause();
  }

  resume(id: NodeId): void {
    this.count('resume');
    this.node(id).resume();
  }

  partition(groups: ReadonlyArray<readonly NodeId[]>): void {
    this.count('partition');
    this.network.partition(groups);
  }

  cut(from: NodeId, to: NodeId): void {
    this.count('cut');
    this.network.cut(from, to);
  }

  heal(): void {
    this.count('heal');
    this.network.heal();
  }

  /** Ends every fault: heals the network, stops loss and duplication, restarts and resumes. */
  quiesce(): void {
    if (this.network.isPartitioned) this.heal();
    this.network.configure({ lossRate: 0, duplicateRate: 0 });
    for (const node of this.nodes.values()) {
      if (this.retired.has(node.id)) continue;
      if (node.state === 'down') this.restart(node.id);
      else if (node.state === 'paused') this.resume(node.id);
    }
  }

  private count(kind: string): void {
    this.faultCounts.set(kind, (this.faultCounts.get(kind) ?? 0) + 1);
    this.trace(`fault ${kind}`, null);
  }

  private trace(line: string, key: string | null): void {
    if (this.tracer !== null) this.tracer(`${this.nowMsValue.toFixed(3)} ${line}`, key);
  }

  /** Tells every other running node, after a detection delay, that `peer` went down or up. */
  private announce(peer: NodeId, up: boolean): void {
    for (const observer of this.nodes.values()) {
      if (observer.id === peer || observer.state === 'down') continue;
      const key = `${observer.id}>${peer}`;
      const dueMs = Math.max(
        this.nowMsValue + sampleDist(this.options.detectionDelay, this.prng),
        this.noticeDueMs.get(key) ?? 0,
      );
      this.noticeDueMs.set(key, dueMs);
      const incarnation = observer.incarnation;
      this.at(dueMs, () => observer.input({ kind: 'peer-status', peer, up }, incarnation));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Wiring

  private gossipTunables(): { now?: () => number; random?: () => number } {
    const random = this.gossipRandom;
    if (random === null) return {};
    return { now: () => this.nowMsValue, random: () => random.next01() };
  }

  private nodeEnv(): NodeEnv {
    return {
      ring: this.initialRing,
      tunables: { ...this.options.tunables, n: this.options.n, ...this.gossipTunables() },
      nowMs: () => this.nowMsValue,
      at: (timeMs, action) => this.at(timeMs, action),
      send: (from, to, message) => this.send(from, to, message),
      reply: (_from, reqId, result) => this.reply(reqId, result),
      diskLatencyMs: () => Math.max(0, sampleDist(this.options.diskLatency, this.prng)),
      fault: (node, error) => {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.coreFaults.push({ node, atMs: this.nowMsValue, message });
      },
    };
  }

  private send(from: NodeId, to: NodeId, message: PeerMessage): void {
    const target = this.node(to);
    const incarnation = target.incarnation; // a restarted node never gets an older link's mail
    if (from === to) {
      // NodeCore handles its own messages within a step; should one escape, it stays local.
      this.after(0, () => target.input({ kind: 'message', from, message }, incarnation));
      return;
    }
    for (const delayMs of this.network.plan(from, to)) {
      this.after(delayMs, () => {
        if (!this.network.canReach(from, to)) {
          this.network.stats.blocked++;
          return;
        }
        if (this.tracer !== null) {
          const lost =
            target.incarnation !== incarnation || target.state === 'down' ? ' (lost: down)' : '';
          this.trace(`msg ${from}->${to} ${summarize(message)}${lost}`, keyOf(message));
        }
        target.input({ kind: 'message', from, message }, incarnation);
      });
    }
  }

  private reply(reqId: number, result: ClientResult): void {
    const admin = this.adminRoutes.get(reqId);
    if (admin !== undefined) {
      this.adminRoutes.delete(reqId);
      this.trace(`admin reply req ${reqId} ${summarize(result)}`, null);
      this.after(0, () => admin(result));
      return;
    }
    const route = this.routes.get(reqId);
    if (route === undefined) return; // the client gave up on it
    this.routes.delete(reqId);
    const { client, key } = route;
    if (this.tracer !== null)
      this.trace(`reply ${client.name} req ${reqId} ${summarize(result)}`, key);
    this.after(0, () => client.onReply(reqId, result));
  }

  private clientEnv() {
    return {
      prng: this.prng,
      history: this.history,
      retry: this.options.retry,
      requestTimeoutMs: this.options.requestTimeoutMs,
      clientTimeoutSlackMs: this.options.clientTimeoutSlackMs,
      nowMs: () => this.nowMsValue,
      at: (timeMs: number, action: Action) => this.at(timeMs, action),
      routeView: () => this.routeView(),
      request: (client: SimClient, node: NodeId, request: ClientRequest) => {
        const reqId = this.reqIdNext++;
        this.routes.set(reqId, { client, key: request.key });
        const target = this.node(node);
        const incarnation = target.incarnation;
        this.after(0, () => {
          this.trace(
            `request ${client.name} req ${reqId} -> ${node} ${summarize(request)}`,
            request.key,
          );
          target.input({ kind: 'request', reqId, request }, incarnation);
        });
        return reqId;
      },
      forget: (reqId: number) => {
        this.routes.delete(reqId);
      },
    };
  }

  /** What the clients route by: the newest ring, and which nodes run (client/router.ts). */
  private routeView(): RouteView {
    return {
      ring: this.ring,
      n: this.options.n,
      nodeIds: this.ids,
      isUp: (id: string) => this.node(id as NodeId).state !== 'down',
    };
  }
}
