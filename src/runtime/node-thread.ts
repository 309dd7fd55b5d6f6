/**
 * The main thread's handle on one worker thread that hosts nodes (worker-main.ts): starts the
 * thread, posts to it, batches client requests for all its nodes into one post per event-loop
 * turn, and routes what it sends back to the node it names (worker-node.ts). When the thread
 * itself dies (an uncaught error, or `terminate`), every node on it stops.
 */
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import { TurnBatcher } from '../util/turn-batcher.js';
import { type FromWorker, POST_ITEMS_MAX, type ThreadRequest, type ToWorker } from './control.js';

/** What a node on the thread hears: its messages, and the thread's end. */
export interface ThreadListener {
  receive(message: Exclude<FromWorker, { type: 'replies' }>): void;
  /** The thread stopped; every node on it is gone. */
  threadGone(reason: string): void;
}

/** The worker script: the TS bootstrap when running from sources, else the built entry. */
function workerScript(): URL {
  const fromSources = import.meta.url.endsWith('.ts');
  return new URL(fromSources ? './worker-bootstrap.mjs' : './worker-main.js', import.meta.url);
}

export class NodeThread {
  private readonly worker: Worker;
  private readonly listeners = new Map<string, ThreadListener>();
  /**
   * Client requests for all of the thread's nodes, a post per turn or per
   * POST_ITEMS_MAX. Per turn, not per microtask: an HTTP PUT at 64 connections cost
   * 248–292 µs of CPU instead of 321–373 (all threads, bench notes, issue 14).
   */
  private readonly outbox = new TurnBatcher<ThreadRequest>(POST_ITEMS_MAX, (batch) =>
    this.post({ type: 'requests', batch }),
  );
  private alive = true;
  /** Settles when the thread has exited. */
  readonly exited: Promise<void>;

  /**
   * `nodes`: how many nodes the thread is meant to host. Its heap may grow to that many times
   * this thread's own limit, the room they had when each node had a thread (and a heap) of its
   * own: an in-memory cluster keeps its records there.
   */
  constructor(
    private readonly onReply: (reqId: number, result: ClientResult, sentAtMs: number) => void,
    nodes: number,
  ) {
    const heapMb = Math.ceil(getHeapStatistics().heap_size_limit / 2 ** 20);
    this.worker = new Worker(workerScript(), {
      resourceLimits: { maxOldGenerationSizeMb: heapMb * Math.max(1, nodes) },
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (message: FromWorker) => this.route(message));
    this.worker.on('error', (error) => this.gone(`crashed: ${error.message}`));
    this.worker.on('exit', (code) => this.gone(`exited with code ${code}`));
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Nodes whose messages this thread routes now. */
  get hosted(): number {
    return this.listeners.size;
  }

  /** Routes the messages that name `node` to `listener`, until `detach`; one listener per node. */
  attach(node: string, listener: ThreadListener): void {
    if (this.listeners.has(node)) throw new Error(`node ${node} runs on this thread already`);
    this.listeners.set(node, listener);
  }

  detach(node: string, listener: ThreadListener): void {
    if (this.listeners.get(node) === listener) this.listeners.delete(node);
  }

  post(message: ToWorker, transfer?: Parameters<Worker['postMessage']>[1]): void {
    if (this.alive) this.worker.postMessage(message, transfer);
  }

  /** Queues a client request for `node` (see `outbox`). */
  request(node: string, reqId: number, request: ClientRequest): void {
    this.outbox.push({ node, reqId, request });
  }

  /** Stops the thread at once, and with it every node it hosts. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private route(message: FromWorker): void {
    if (message.type === 'replies') {
      for (const { reqId, result } of message.batch) this.onReply(reqId, result, message.sentAtMs);
      return;
    }
    this.listeners.get(message.node)?.receive(message);
  }

  private gone(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    for (const listener of [...this.listeners.values()]) listener.threadGone(reason);
    this.listeners.clear();
  }
}
