/**
 * Starts a local cluster of worker-thread nodes and keeps their full mesh of MessageChannels
 * wired: on start, when a node is killed (its peers learn it is down) and when it is restarted
 * (it gets fresh channels to every running peer and learns which peers are down). It also keeps
 * the injected network faults (network-state.ts) and gives every node its share of them: on a
 * change, and when a node (re)starts, so a partition survives a restart.
 */
import { MessageChannel } from 'node:worker_threads';
import type { ClientResult } from '../core/messages.js';
import type { CoreLimits } from '../core/node.js';
import type { WorkerInit } from './control.js';
import { type NetworkSettings, NetworkState, type NetworkView } from './network-state.js';
import { WorkerNode } from './worker-node.js';

export interface LauncherOptions {
  readonly nodeIds: readonly string[];
  readonly n: number;
  readonly owners: readonly string[];
  readonly dataDir: string | null;
  readonly forwardSlackMs: number;
  readonly limits: CoreLimits;
}

export interface LauncherEvents {
  reply(reqId: number, result: ClientResult): void;
  /** A node stopped for any reason (killed, crashed, closed). */
  nodeDown(id: string, reason: string): void;
}

export class Launcher {
  private readonly running = new Map<string, WorkerNode>();
  private readonly network: NetworkState;
  private closing = false;

  private constructor(
    private readonly options: LauncherOptions,
    private readonly events: LauncherEvents,
  ) {
    this.network = new NetworkState(options.nodeIds);
  }

  /** Starts every node, then wires the mesh. Fails (stopping what started) if any node fails. */
  static async start(options: LauncherOptions, events: LauncherEvents): Promise<Launcher> {
    const launcher = new Launcher(options, events);
    const started = await Promise.allSettled(options.nodeIds.map((id) => launcher.spawn(id)));
    const failure = started.find((s) => s.status === 'rejected');
    if (failure !== undefined) {
      await launcher.close();
      throw failure.reason;
    }
    const nodes = [...launcher.running.values()];
    nodes.forEach((a, i) => {
      for (const b of nodes.slice(i + 1)) connect(a, b);
    });
    return launcher;
  }

  isUp(id: string): boolean {
    return this.running.get(id)?.isRunning ?? false;
  }

  node(id: string): WorkerNode | undefined {
    return this.running.get(id);
  }

  /** Stops a node abruptly; its peers are told it is down. */
  async kill(id: string): Promise<void> {
    const node = this.running.get(id);
    if (node === undefined) return;
    await node.kill();
  }

  /** Starts a stopped node again, wires it to every running peer and tells them it is up. */
  async restart(id: string): Promise<void> {
    if (this.running.has(id)) return;
    const node = await this.spawn(id);
    for (const peer of this.running.values()) {
      if (peer === node) continue;
      connect(node, peer);
      peer.post({ type: 'peer-status', peer: id, up: true });
    }
    for (const other of this.options.nodeIds) {
      if (!this.running.has(other)) node.post({ type: 'peer-status', peer: other, up: false });
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

  networkView(): NetworkView {
    return this.network.view();
  }

  /** The node's partition group index, or null when the cluster is not partitioned. */
  partitionGroupOf(id: string): number | null {
    return this.network.groupOf(id);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.running.values()].map((node) => node.close()));
    this.running.clear();
  }

  /** Sends every running node its faults and waits (bounded) until each has them in force. */
  private async applyFaults(): Promise<NetworkView> {
    const nodes = [...this.running.values()];
    await Promise.all(nodes.map((node) => node.applyFaults(this.network.faultsFor(node.id))));
    return this.network.view();
  }

  private async spawn(id: string): Promise<WorkerNode> {
    const { n, owners, dataDir, forwardSlackMs, limits } = this.options;
    const faults = this.network.faultsFor(id);
    const version = this.network.version;
    const init: WorkerInit = { id, n, owners, dataDir, forwardSlackMs, limits, faults };
    const node = await WorkerNode.start(init, {
      reply: (reqId, result) => this.events.reply(reqId, result),
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
    if (!this.closing) {
      for (const peer of this.running.values())
        peer.post({ type: 'peer-status', peer: id, up: false });
    }
    this.events.nodeDown(id, reason);
  }
}

/** Gives two nodes a fresh MessageChannel to each other. */
function connect(a: WorkerNode, b: WorkerNode): void {
  const { port1, port2 } = new MessageChannel();
  a.post({ type: 'connect', peer: b.id, port: port1 }, [port1]);
  b.post({ type: 'connect', peer: a.id, port: port2 }, [port2]);
}
