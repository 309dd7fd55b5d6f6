/**
 * The main thread's handle on one node's worker thread: starts it, batches client requests to
 * it, routes its replies, and reports when it stops. Worker threads are used directly (not
 * piscina): each node needs its own long-lived, individually killable thread.
 */
import { Worker } from 'node:worker_threads';
import type { NodeKeyView } from '../core/explain.js';
import type { ClientResult } from '../core/messages.js';
import type { KeyRecord } from '../core/types.js';
import type { NetworkFaults } from '../transport/faults.js';
import type { FromWorker, RequestEnvelope, ToWorker, WorkerInit, WorkerStats } from './control.js';

export interface WorkerNodeEvents {
  reply(reqId: number, result: ClientResult): void;
  /** The worker stopped (killed, crashed or closed). Called once. */
  exit(id: string, reason: string): void;
}

/** How long a starting node may take to open its storage and report ready. */
const START_TIMEOUT_MS = 30_000;
/** How long a graceful close may take before the worker is terminated. */
const CLOSE_TIMEOUT_MS = 5_000;
/** How long a stats, inspect or faults query may take; a node that does not answer yields null. */
const QUERY_TIMEOUT_MS = 2_000;

/** The worker script: the TS bootstrap when running from sources, else the built entry. */
function workerScript(): URL {
  const fromSources = import.meta.url.endsWith('.ts');
  return new URL(fromSources ? './worker-bootstrap.mjs' : './worker-main.js', import.meta.url);
}

export class WorkerNode {
  private readonly worker: Worker;
  private outbox: RequestEnvelope[] = [];
  /** Answers awaited from the worker (stats, inspect), by query id. */
  private readonly queries = new Map<number, (answer: unknown) => void>();
  private nextQueryId = 1;
  private running = true;
  /** Rejects start() while the node is starting; a no-op once it is ready. */
  private startFailed: (reason: string) => void = () => {};
  private readonly closed: Promise<void>;
  actor = '';

  private constructor(
    readonly id: string,
    init: WorkerInit,
    private readonly events: WorkerNodeEvents,
  ) {
    this.worker = new Worker(workerScript(), { workerData: init });
    this.closed = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Starts a node's worker and waits until it is ready to serve. */
  static async start(init: WorkerInit, events: WorkerNodeEvents): Promise<WorkerNode> {
    const node = new WorkerNode(init.id, init, events);
    await node.awaitReady();
    return node;
  }

  get isRunning(): boolean {
    return this.running;
  }

  post(message: ToWorker, transfer?: Parameters<Worker['postMessage']>[1]): void {
    if (this.running) this.worker.postMessage(message, transfer);
  }

  /**
   * Queues a client request; requests queued in one event-loop turn travel in one post. Per turn
   * (setImmediate), not per microtask: every HTTP or RESP request arrives in its own socket
   * event, so a microtask flush posted each request alone. Per turn, an HTTP PUT at 64
   * connections cost 248–292 µs of CPU instead of 321–373 (all threads, bench notes, issue 14).
   */
  request(envelope: RequestEnvelope): void {
    if (this.outbox.length === 0) setImmediate(() => this.flush());
    this.outbox.push(envelope);
  }

  stats(): Promise<WorkerStats | null> {
    return this.query((queryId) => ({ type: 'stats', queryId })) as Promise<WorkerStats | null>;
  }

  /** The node's local record for `key` (pending writes included), null when it holds none. */
  inspect(key: string): Promise<KeyRecord | null> {
    return this.query((queryId) => ({
      type: 'inspect',
      queryId,
      key,
    })) as Promise<KeyRecord | null>;
  }

  /** What the node knows about `key` (core/explain.ts); null when it stopped or did not answer. */
  explain(key: string): Promise<NodeKeyView | null> {
    return this.query((queryId) => ({
      type: 'explain',
      queryId,
      key,
    })) as Promise<NodeKeyView | null>;
  }

  /**
   * Replaces the node's network faults; resolves true once they are in force, false when the
   * node stopped or did not answer in time.
   */
  async applyFaults(faults: NetworkFaults): Promise<boolean> {
    const answer = await this.query((queryId) => ({ type: 'faults', queryId, faults }));
    return answer !== null;
  }

  /** Posts a query and waits for its answer; null when the node stops or does not answer. */
  private query(message: (queryId: number) => ToWorker): Promise<unknown> {
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
      this.post(message(queryId));
    });
  }

  /** Stops the worker abruptly, as a crash would. */
  async kill(): Promise<void> {
    await this.worker.terminate();
    await this.closed;
  }

  /** Asks the worker to close its storage cleanly; terminates it if it does not in time. */
  async close(): Promise<void> {
    if (!this.running) return this.closed;
    this.post({ type: 'close' });
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
    await this.closed;
    clearTimeout(timer);
  }

  private flush(): void {
    const batch = this.outbox;
    this.outbox = [];
    this.post({ type: 'requests', batch });
  }

  private awaitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`node ${this.id} did not start within ${START_TIMEOUT_MS} ms`));
        void this.worker.terminate();
      }, START_TIMEOUT_MS);
      this.startFailed = (reason) => {
        clearTimeout(timer);
        reject(new Error(`node ${this.id} ${reason}`));
      };
      this.worker.on('message', (message: FromWorker) => {
        if (message.type !== 'ready') return this.onMessage(message);
        clearTimeout(timer);
        this.startFailed = () => {};
        this.actor = message.actor;
        resolve();
      });
      this.worker.on('error', (error) => this.stopped(`crashed: ${error.message}`));
      this.worker.on('exit', (code) => this.stopped(`exited with code ${code}`));
    });
  }

  private stopped(reason: string): void {
    this.startFailed(reason);
    if (!this.running) return;
    this.running = false;
    for (const finish of [...this.queries.values()]) finish(null);
    this.events.exit(this.id, reason);
  }

  private onMessage(message: FromWorker): void {
    switch (message.type) {
      case 'replies':
        for (const { reqId, result } of message.batch) this.events.reply(reqId, result);
        return;
      case 'stats':
        this.queries.get(message.queryId)?.(message.stats);
        return;
      case 'inspect':
        this.queries.get(message.queryId)?.(message.record);
        return;
      case 'explain':
        this.queries.get(message.queryId)?.(message.view);
        return;
      case 'faults-applied':
        this.queries.get(message.queryId)?.(true);
        return;
      case 'fatal':
        this.stopped(`failed: ${message.message}`);
        return;
      case 'ready':
      case 'closed':
        return;
    }
  }
}
