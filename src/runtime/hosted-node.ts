/**
 * One node on a worker thread that may host others (worker-main.ts): opens the node's storage,
 * builds its NodeCore and hosts it on real time. Peer traffic goes through a FaultyTransport over
 * the thread's LocalHub (nodes on the same thread) and the MessageChannel mesh (the others), so
 * injected faults apply to both. A node stops on its own (`stop`), and only itself: when its
 * storage or a core invariant fails, it stops and reports `fatal`, and the thread's other nodes
 * go on.
 */

import type { MessagePort } from 'node:worker_threads';
import type { NodeKeyView } from '../core/explain.js';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import { NodeCore } from '../core/node.js';
import { Ring } from '../core/ring.js';
import { type KeyRecord, nodeId } from '../core/types.js';
import type { StorageEngine } from '../storage/engine.js';
import { openStorage } from '../storage/index.js';
import { FaultyTransport } from '../transport/faulty.js';
import { type LocalHub, LocalHubTransport } from '../transport/local-hub.js';
import { errorText } from '../util/error-text.js';
import { loadOrCreateActor } from './actor.js';
import { type WorkerFaults, type WorkerInit, type WorkerStats, workerStats } from './control.js';
import { hostClocks } from './host-clocks.js';
import { createLogger, type Logger, NodeLog } from './log.js';
import { transportFaults } from './node-faults.js';
import { NodeHost } from './node-host.js';

export interface HostedNodeEvents {
  reply(reqId: number, result: ClientResult): void;
  /** The node failed and stopped its host; `message` says why. Called at most once. */
  fatal(message: string): void;
}

export class HostedNode {
  private readonly host: NodeHost;
  private stopping: Promise<void> | null = null;
  /** Why the node failed (storage, a core invariant); null while it has not. */
  private failure: string | null = null;
  /** Whether `open` returned it: a failure before that is open's rejection, not `fatal`. */
  private started = false;

  private constructor(
    readonly id: string,
    readonly actor: string,
    private readonly core: NodeCore,
    private readonly storage: StorageEngine,
    private readonly links: LocalHubTransport,
    private readonly transport: FaultyTransport,
    readonly log: Logger,
    private readonly events: HostedNodeEvents,
  ) {
    this.host = new NodeHost(
      core,
      storage,
      transport,
      { reply: (reqId, result) => events.reply(reqId, result), fatal: (e) => this.fail(e) },
      new NodeLog(log),
    );
  }

  /** Opens the node's storage and starts its core; rejects when the node cannot start. */
  static async open(
    init: WorkerInit,
    hub: LocalHub,
    events: HostedNodeEvents,
  ): Promise<HostedNode> {
    const log = createLogger({ level: init.logLevel, node: init.id, destination: init.logFd });
    const storage = await openStorage({
      dataDir: init.dataDir,
      nodeId: init.id,
      engine: init.storageEngine,
      onWarning: (message, error) => log.warn({ err: error }, message),
    });
    let node: HostedNode;
    try {
      const actor = await loadOrCreateActor(init.id, storage);
      const links = new LocalHubTransport(hub, nodeId(init.id));
      const transport = new FaultyTransport(links);
      transport.setFaults(transportFaults(init.faults, init.id));
      const core = new NodeCore({
        id: nodeId(init.id),
        actor,
        ring: Ring.fromOwners(init.owners.map(nodeId)),
        ...(init.ringState === undefined ? {} : { ringState: init.ringState }),
        n: init.n,
        forwardSlackMs: init.forwardSlackMs,
        limits: init.limits,
        store: storage,
        ...hostClocks(),
      });
      node = new HostedNode(init.id, actor, core, storage, links, transport, log, events);
    } catch (error) {
      await storage.close().catch(() => {});
      throw error;
    }
    node.host.input({ kind: 'start' });
    if (node.failure !== null) {
      await node.stop();
      throw new Error(node.failure);
    }
    node.started = true;
    log.info({ actor: node.actor, storage: storage.kind, keys: storage.count() }, 'node started');
    return node;
  }

  request(reqId: number, request: ClientRequest): void {
    this.host.input({ kind: 'request', reqId, request });
  }

  connect(peer: string, port: MessagePort): void {
    this.links.channels.connect(nodeId(peer), port);
  }

  disconnect(peer: string): void {
    this.links.channels.disconnect(nodeId(peer));
  }

  peerStatus(peer: string, up: boolean): void {
    this.host.input({ kind: 'peer-status', peer: nodeId(peer), up });
  }

  setFaults(faults: WorkerFaults): void {
    this.transport.setFaults(transportFaults(faults, this.id));
  }

  stats(): WorkerStats {
    const { transport } = this;
    return workerStats(
      this.actor,
      this.core,
      this.storage,
      transport.stats(),
      transport.faultStats(),
    );
  }

  inspect(key: string): KeyRecord | null {
    return this.core.read(key) ?? null;
  }

  explain(key: string): NodeKeyView {
    return this.core.explain(key);
  }

  /** The host stopped on a failure: stop the rest, then report it (once, and after `open`). */
  private fail(error: unknown): void {
    if (this.failure !== null) return;
    this.failure = errorText(error);
    const failure = this.failure;
    if (this.started) void this.stop().finally(() => this.events.fatal(failure));
  }

  /**
   * Stops the node: no more inputs, timers or peer messages (queued ones are dropped), then its
   * storage closes. Idempotent. What was not yet stored is lost, as in a crash; nothing acked is,
   * since an ack leaves only after its write is stored.
   */
  stop(): Promise<void> {
    if (this.stopping === null) {
      this.host.stop();
      this.transport.close();
      this.stopping = this.storage.close().catch((error: unknown) => {
        this.log.warn({ err: error }, 'storage did not close cleanly');
      });
    }
    return this.stopping;
  }
}
