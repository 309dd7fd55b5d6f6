/**
 * Starts a local cluster of worker-thread nodes and keeps their full mesh of MessageChannels
 * wired: on start, when a node is killed (its peers learn it is down) and when it is restarted
 * (it gets fresh channels to every running peer and learns which peers are down).
 */
import { MessageChannel } from 'node:worker_threads';
import type { ClientResult } from '../core/messages.js';
import type { CoreLimits } from '../core/node.js';
import type { WorkerInit } from './control.js';
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
  private closing = false;

  private constructor(
    private readonly options: LauncherOptions,
    private readonly events: LauncherEvents,
  ) {}

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

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.running.values()].map((node) => node.close()));
    this.running.clear();
  }

  private async spawn(id: string): Promise<WorkerNode> {
    const { n, owners, dataDir, forwardSlackMs, limits } = this.options;
    const init: WorkerInit = { id, n, owners, dataDir, forwardSlackMs, limits };
    const node = await WorkerNode.start(init, {
      reply: (reqId, result) => this.events.reply(reqId, result),
      exit: (nodeId, reason) => this.onExit(nodeId, reason),
    });
    this.running.set(id, node);
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
