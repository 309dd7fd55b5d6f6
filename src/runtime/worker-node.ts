/**
 * The main thread's handle on one node, which runs on a worker thread it may share with other
 * nodes (node-thread.ts): starts the node there, queues its client requests, asks its stats,
 * stops it, and reports once when it stops — closed, killed, failed, or its thread gone.
 */
import type { NodeKeyView } from '../core/explain.js';
import type { ClientRequest } from '../core/messages.js';
import type { KeyRecord } from '../core/types.js';
import type { NetworkFaults } from '../transport/faults.js';
import type { FromWorker, ToWorker, WorkerInit, WorkerStats } from './control.js';
import type { NodeThread, ThreadListener } from './node-thread.js';

export interface WorkerNodeEvents {
  /** The node stopped (killed, crashed or closed). Called once. */
  exit(id: string, reason: string): void;
}

/** How long a starting node may take to open its storage and report ready. */
const START_TIMEOUT_MS = 30_000;
/**
 * How long a close or kill may take (the node's storage closing) before the node's whole thread
 * is terminated, and every other node on it with it.
 */
const CLOSE_TIMEOUT_MS = 5_000;
/** How long a stats, inspect or faults query may take; a node that does not answer yields null. */
const QUERY_TIMEOUT_MS = 2_000;

type NodeMessage = Exclude<FromWorker, { type: 'replies' }>;
/** The queries a node answers, without the fields the handle adds. */
type Query =
  | { readonly type: 'stats' }
  | { readonly type: 'inspect' | 'explain'; readonly key: string }
  | { readonly type: 'faults'; readonly faults: NetworkFaults };

export class WorkerNode implements ThreadListener {
  /** Answers awaited from the node (stats, inspect), by query id. */
  private readonly queries = new Map<number, (answer: unknown) => void>();
  private nextQueryId = 1;
  private running = true;
  private ready: { resolve(): void; reject(error: Error): void } | null = null;
  /** Settles when the node has stopped, whatever the cause. */
  private readonly stoppedPromise: Promise<void>;
  private markStopped: () => void = () => {};
  actor = '';

  private constructor(
    readonly id: string,
    readonly thread: NodeThread,
    private readonly events: WorkerNodeEvents,
  ) {
    this.stoppedPromise = new Promise((resolve) => {
      this.markStopped = resolve;
    });
    thread.attach(id, this);
  }

  /** Starts a node on `thread` and waits until it is ready to serve. */
  static async start(
    init: WorkerInit,
    thread: NodeThread,
    events: WorkerNodeEvents,
  ): Promise<WorkerNode> {
    const node = new WorkerNode(init.id, thread, events);
    await node.awaitReady(init);
    return node;
  }

  get isRunning(): boolean {
    return this.running;
  }

  post(message: ToWorker, transfer?: Parameters<NodeThread['post']>[1]): void {
    if (this.running) this.thread.post(message, transfer);
  }

  /** Queues a client request (batched per turn with its thread's other requests). */
  request(reqId: number, request: ClientRequest): void {
    if (this.running) this.thread.request(this.id, reqId, request);
  }

  stats(): Promise<WorkerStats | null> {
    return this.query({ type: 'stats' }) as Promise<WorkerStats | null>;
  }

  /** The node's local record for `key` (pending writes included), null when it holds none. */
  inspect(key: string): Promise<KeyRecord | null> {
    return this.query({ type: 'inspect', key }) as Promise<KeyRecord | null>;
  }

  /** What the node knows about `key` (core/explain.ts); null when it stopped or did not answer. */
  explain(key: string): Promise<NodeKeyView | null> {
    return this.query({ type: 'explain', key }) as Promise<NodeKeyView | null>;
  }

  /**
   * Replaces the node's network faults; resolves true once they are in force, false when the
   * node stopped or did not answer in time.
   */
  async applyFaults(faults: NetworkFaults): Promise<boolean> {
    const answer = await this.query({ type: 'faults', faults });
    return answer !== null;
  }

  /** Stops the node abruptly, as a crash would: what it had not stored is lost. */
  kill(): Promise<void> {
    return this.stop('kill');
  }

  /** Stops the node cleanly. */
  close(): Promise<void> {
    return this.stop('close');
  }

  receive(message: NodeMessage): void {
    switch (message.type) {
      case 'ready':
        this.actor = message.actor;
        this.ready?.resolve();
        return;
      case 'stats':
        return this.queries.get(message.queryId)?.(message.stats);
      case 'inspect':
        return this.queries.get(message.queryId)?.(message.record);
      case 'explain':
        return this.queries.get(message.queryId)?.(message.view);
      case 'faults-applied':
        return this.queries.get(message.queryId)?.(true);
      case 'fatal':
        return this.stopped(`failed: ${message.message}`);
      case 'closed':
        return this.stopped(message.how === 'kill' ? 'killed' : 'closed');
    }
  }

  threadGone(reason: string): void {
    this.stopped(reason);
  }

  private async stop(how: 'kill' | 'close'): Promise<void> {
    if (!this.running) return this.stoppedPromise;
    this.thread.post({ type: how, node: this.id });
    const timer = setTimeout(() => void this.thread.terminate(), CLOSE_TIMEOUT_MS);
    await this.stoppedPromise;
    clearTimeout(timer);
  }

  /** Posts a query and waits for its answer; null when the node stops or does not answer. */
  private query(query: Query): Promise<unknown> {
    if (!this.running) return Promise.resolve(null);
    const queryId = this.nextQueryId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), QUERY_TIMEOUT_MS);
      const finish = (answer: unknown) => {
        clearTimeout(timer);
        this.queries.delete(queryId);
        resolve(answer);
      };
      this.queries.set(queryId, finish);
      this.thread.post({ ...query, node: this.id, queryId } as ToWorker);
    });
  }

  private awaitReady(init: WorkerInit): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.ready = null;
        reject(new Error(`node ${this.id} did not start within ${START_TIMEOUT_MS} ms`));
        void this.kill();
      }, START_TIMEOUT_MS);
      this.ready = {
        resolve: () => {
          clearTimeout(timer);
          this.ready = null;
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.ready = null;
          reject(error);
        },
      };
      this.thread.post({ type: 'start', node: this.id, init });
    });
  }

  private stopped(reason: string): void {
    this.ready?.reject(new Error(`node ${this.id} ${reason}`));
    if (!this.running) return;
    this.running = false;
    this.thread.detach(this.id, this);
    for (const finish of [...this.queries.values()]) finish(null);
    this.markStopped();
    this.events.exit(this.id, reason);
  }
}
