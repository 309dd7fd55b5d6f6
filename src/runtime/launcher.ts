/**
 * Starts a local cluster of nodes on worker threads — `threads` of them, each hosting one or
 * more nodes (nodes on one thread talk through its LocalHub) — and keeps the full mesh of
 * MessageChannels between nodes on different threads wired: on start, when a node is killed
 * (its peers learn it is down), when it is restarted or added (it gets fresh channels to every
 * running peer on another thread and learns which peers are down) and when it is forgotten
 * (removed from the cluster for good: never restarted). It also keeps
 * the injected network faults (network-state.ts) and gives every node its share of them: on a
 * change, and when a node (re)starts, so a partition survives a restart.
 */
import { closeSync, openSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import type { LogLevel, StorageEngineName } from '../config.js';
import { assert } from '../core/assert.js';
import type { ClientResult } from '../core/messages.js';
import type { CoreLimits } from '../core/node.js';
import type { RingState } from '../core/ring-state.js';
import type { WorkerInit } from './control.js';
import { createLogger, type Logger, STDERR_FD } from './log.js';
import { type NetworkSettings, NetworkState, type NetworkView } from './network-state.js';
import { NodeThread } from './node-thread.js';
import { WorkerNode } from './worker-node.js';

export interface LauncherOptions {
  readonly nodeIds: readonly string[];
  readonly n: number;
  readonly owners: readonly string[];
  readonly dataDir: string | null;
  /** The engine of a new node directory (config `storageEngine`). @default 'log' */
  readonly storageEngine?: StorageEngineName;
  readonly forwardSlackMs: number;
  readonly limits: CoreLimits;
  /** Level of the launcher's and every node's log (config `logLevel`). */
  readonly logLevel: LogLevel;
  /** A file every log line is appended to instead of stderr (opened once, shared by the nodes). */
  readonly logFile?: string | null;
  /**
   * Worker threads the nodes share (config `nodeThreads`, resolved): node i of the start goes
   * to thread i mod threads; a node added later to the thread hosting the fewest.
   * @default one per node
   */
  readonly threads?: number;
}

export interface LauncherEvents {
  /** A node's answer; `sentAtMs` (processClockMs) is when its thread posted it. */
  reply(reqId: number, result: ClientResult, sentAtMs?: number): void;
  /** A node stopped for any reason (killed, crashed, closed). */
  nodeDown(id: string, reason: string): void;
}

export class Launcher {
  private readonly running = new Map<string, WorkerNode>();
  private readonly network: NetworkState;
  private closing = false;
  /** The main thread's log: cluster start and close, node kills, restarts and exits. */
  readonly log: Logger;
  private logFd: number;
  /** Nodes being killed on purpose: their exit is expected, not an error. */
  private readonly killing = new Set<string>();
  /** Every node of the cluster, running or not, in order of creation (forgotten ones leave). */
  private readonly nodeIds: string[];
  /** The newest ring state the caller reported: every node spawned from now on starts from it. */
  private ringState: RingState | null = null;
  /** The worker threads, by slot; a slot whose thread died gets a new one at its next spawn. */
  private readonly threads: (NodeThread | null)[];
  /** Each node's thread slot, kept across kills and restarts (a node restarts where it ran). */
  private readonly slotOf = new Map<string, number>();

  private constructor(
    private readonly options: LauncherOptions,
    private readonly events: LauncherEvents,
  ) {
    this.network = new NetworkState(options.nodeIds);
    this.nodeIds = [...options.nodeIds];
    this.logFd = options.logFile ? openSync(options.logFile, 'a') : STDERR_FD;
    this.log = createLogger({ level: options.logLevel, name: 'launcher', destination: this.logFd });
    const threads = options.threads ?? options.nodeIds.length;
    assert(Number.isInteger(threads) && threads >= 1, 'a cluster has at least one thread');
    this.threads = Array.from({ length: threads }, () => null);
    options.nodeIds.forEach((id, i) => {
      this.slotOf.set(id, i % threads);
    });
  }

  /** Starts every node, then wires the mesh. Fails (stopping what started) if any node fails. */
  static async start(options: LauncherOptions, events: LauncherEvents): Promise<Launcher> {
    const launcher = new Launcher(options, events);
    const startedAt = Date.now();
    const started = await Promise.allSettled(options.nodeIds.map((id) => launcher.spawn(id)));
    const failure = started.find((s) => s.status === 'rejected');
    if (failure !== undefined) {
      launcher.log.error({ err: failure.reason }, 'cluster failed to start');
      await launcher.close();
      throw failure.reason;
    }
    const nodes = [...launcher.running.values()];
    nodes.forEach((a, i) => {
      for (const b of nodes.slice(i + 1)) connect(a, b);
    });
    const { nodeIds, n, dataDir } = options;
    const threads = launcher.threads.length;
    launcher.log.info(
      { nodes: nodeIds, n, threads, durable: dataDir !== null, ms: Date.now() - startedAt },
      'cluster started',
    );
    return launcher;
  }

  isUp(id: string): boolean {
    return this.running.get(id)?.isRunning ?? false;
  }

  node(id: string): WorkerNode | undefined {
    return this.running.get(id);
  }

  /** Stops a node abruptly; its peers are told it is down. */
  /** Kills a running node; false when it was not running (nothing to do). */
  async kill(id: string): Promise<boolean> {
    const node = this.running.get(id);
    if (node === undefined) return false;
    this.log.info({ node: id }, 'killing node');
    this.killing.add(id);
    await node.kill();
    return true;
  }

  /** Starts a stopped node again, wires it to every running peer and tells them it is up. */
  async restart(id: string): Promise<boolean> {
    if (this.running.has(id) || !this.nodeIds.includes(id)) return false;
    const node = await this.spawn(id);
    this.wire(node);
    this.log.info({ node: id, actor: node.actor }, 'node restarted');
    return true;
  }

  /** The ring state nodes spawned from now on start from (the caller's newest committed one). */
  noteRingState(state: RingState): void {
    if (this.ringState === null || state.version >= this.ringState.version) this.ringState = state;
  }

  /**
   * Starts a node with a new id, starting from `ringState` (the cluster's current one: the node
   * is not in the ring yet), and wires it to every running node. The injected network faults
   * apply to it at once (under a partition it joins the group of unlisted nodes).
   */
  async addNode(id: string, ringState: RingState): Promise<void> {
    if (this.closing) throw new Error('the cluster is closing');
    if (this.nodeIds.includes(id)) throw new Error(`node ${id} exists already`);
    this.noteRingState(ringState);
    this.nodeIds.push(id);
    this.network.addNode(id);
    let node: WorkerNode;
    try {
      node = await this.spawn(id);
    } catch (error) {
      this.dropId(id);
      throw error;
    }
    // Under a partition the peers' blocked lists now name the new node: in force before wiring.
    if (this.network.view().groups !== null) await this.applyFaults();
    this.wire(node);
    this.log.info({ node: id, actor: node.actor }, 'node added');
  }

  /**
   * Stops a node for good: closes it if it runs, drops it from the cluster so it is never
   * restarted, and tells its peers it is down.
   */
  async forget(id: string): Promise<void> {
    if (!this.nodeIds.includes(id)) return;
    this.dropId(id);
    const node = this.running.get(id);
    if (node !== undefined) {
      this.killing.add(id);
      await node.close(); // its exit tells the peers it is down (onExit)
    }
    for (const peer of this.running.values())
      peer.post({ type: 'disconnect', node: peer.id, peer: id });
    if (this.network.view().groups !== null) await this.applyFaults();
    this.log.info({ node: id }, 'node forgotten');
  }

  private dropId(id: string): void {
    const index = this.nodeIds.indexOf(id);
    if (index !== -1) this.nodeIds.splice(index, 1);
    this.network.removeNode(id);
    this.slotOf.delete(id);
  }

  /** The thread `id` runs on: its slot's (started when the slot has none or it died). */
  private threadFor(id: string): NodeThread {
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      const counts = this.threads.map((_, s) => this.placedOn(s));
      slot = counts.indexOf(Math.min(...counts)); // the least used, the lowest such
      this.slotOf.set(id, slot);
    }
    let thread = this.threads[slot] ?? null;
    if (thread === null || !thread.isAlive) {
      const placed = this.placedOn(slot);
      thread = new NodeThread(
        (reqId, result, sentAtMs) => this.events.reply(reqId, result, sentAtMs),
        placed,
      );
      this.threads[slot] = thread;
    }
    return thread;
  }

  /** How many nodes are placed on thread `slot`, running or not. */
  private placedOn(slot: number): number {
    let count = 0;
    for (const placed of this.slotOf.values()) if (placed === slot) count++;
    return count;
  }

  /** Connects a node that just started to every running peer, and each side learns the other's state. */
  private wire(node: WorkerNode): void {
    for (const peer of this.running.values()) {
      if (peer === node) continue;
      connect(node, peer);
      peer.post({ type: 'peer-status', node: peer.id, peer: node.id, up: true });
    }
    for (const other of this.nodeIds) {
      if (!this.running.has(other))
        node.post({ type: 'peer-status', node: node.id, peer: other, up: false });
    }
  }

  /** Splits the nodes into groups that cannot talk to each other (see network-state.ts). */
  async partition(groups: readonly (readonly string[])[]): Promise<NetworkView> {
    this.network.partition(groups);
    return this.applyFaults();
  }

  /** Removes the partition; delay, jitter and loss stay as they are. */
  async heal(): Promise<NetworkView> {
    this.network.heal();
    return this.applyFaults();
  }

  /** Changes delay, jitter and loss; fields left undefined keep their value. */
  async setNetwork(patch: Partial<NetworkSettings>): Promise<NetworkView> {
    this.network.setNetwork(patch);
    return this.applyFaults();
  }

  /** Sets or (null) removes per-message-type delays on every node (network-state.ts). */
  async setMessageDelays(delays: unknown, seed?: number): Promise<void> {
    this.network.setMessageDelays(delays, seed);
    await this.applyFaults();
  }

  networkView(): NetworkView {
    return this.network.view();
  }

  /** The node's partition group index, or null when the cluster is not partitioned. */
  partitionGroupOf(id: string): number | null {
    return this.network.groupOf(id);
  }

  async close(): Promise<void> {
    this.closing = true;
    const closing = [...this.running.values()];
    await Promise.all(closing.map((node) => node.close()));
    this.running.clear();
    await Promise.all(this.threads.map((thread) => thread?.terminate()));
    this.log.info({ nodes: closing.map((node) => node.id) }, 'cluster closed');
    // Every worker has exited: nothing writes to the shared log file any more.
    if (this.logFd !== STDERR_FD) {
      this.log.level = 'silent';
      closeSync(this.logFd);
      this.logFd = STDERR_FD;
    }
  }

  /** Sends every running node its faults and waits (bounded) until each has them in force. */
  private async applyFaults(): Promise<NetworkView> {
    const nodes = [...this.running.values()];
    await Promise.all(nodes.map((node) => node.applyFaults(this.network.faultsFor(node.id))));
    return this.network.view();
  }

  private async spawn(id: string): Promise<WorkerNode> {
    const { n, owners, dataDir, storageEngine = 'log', forwardSlackMs, limits } = this.options;
    const faults = this.network.faultsFor(id);
    const version = this.network.version;
    const { logLevel } = this.options;
    const logFd = this.logFd;
    const init: WorkerInit = {
      id,
      n,
      owners,
      ...(this.ringState === null ? {} : { ringState: this.ringState }),
      dataDir,
      storageEngine,
      forwardSlackMs,
      limits,
      faults,
      logLevel,
      logFd,
    };
    const node = await WorkerNode.start(init, this.threadFor(id), {
      exit: (nodeId, reason) => this.onExit(nodeId, reason),
    });
    this.running.set(id, node);
    // The faults changed while the node was starting: posted before any connect, so in force
    // before the node can exchange a single peer message.
    if (this.network.version !== version) void node.applyFaults(this.network.faultsFor(id));
    return node;
  }

  private onExit(id: string, reason: string): void {
    this.running.delete(id);
    if (this.closing || this.killing.delete(id))
      this.log.info({ node: id, reason }, 'node stopped');
    else this.log.error({ node: id, reason }, 'node stopped unexpectedly');
    if (!this.closing) {
      for (const peer of this.running.values())
        peer.post({ type: 'peer-status', node: peer.id, peer: id, up: false });
    }
    this.events.nodeDown(id, reason);
  }
}

/**
 * Gives two nodes on different threads a fresh MessageChannel to each other; two nodes on one
 * thread reach each other through its LocalHub as soon as both run.
 */
function connect(a: WorkerNode, b: WorkerNode): void {
  if (a.thread === b.thread) return;
  const { port1, port2 } = new MessageChannel();
  a.post({ type: 'connect', node: a.id, peer: b.id, port: port1 }, [port1]);
  b.post({ type: 'connect', node: b.id, peer: a.id, port: port2 }, [port2]);
}
