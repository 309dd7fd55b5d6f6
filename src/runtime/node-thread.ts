/**
 * The main thread's handle on one worker thread that hosts nodes (worker-main.ts): starts the
 * thread, posts to it, batches client requests for all its nodes into one post per event-loop
 * turn, and routes what it sends back to the node it names (worker-node.ts). When the thread
 * itself dies (an uncaught error, or `terminate`), every node on it stops.
 */
import { getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ClientResult } from '../core/messages.js';
import type { FromWorker, ThreadRequest, ToWorker } from './control.js';

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

/**
 * Requests that go in one post at most; the outbox posts as soon as it holds this many, before
 * the turn ends. With closed-loop clients (redis-benchmark, wrk) requests arrive in waves, and
 * a wave posted whole at the end of the turn made the node thread wait for the front to parse
 * all of it, then the front wait for the node thread: one core busy at a time. Posting every 16
 * lets both work at once: RESP GET 16.6 → 20.7 k/s and SET 10.8 → 12.8 k/s with 5 nodes on one
 * thread (2 cores, redis-benchmark -c 50), at the same CPU per op. 4 and 8 did no better.
 */
export const REQUESTS_PER_POST_MAX = 16;

export class NodeThread {
  private readonly worker: Worker;
  private readonly listeners = new Map<string, ThreadListener>();
  private outbox: ThreadRequest[] = [];
  private alive = true;
  /** Settles when the thread has exited. */
  readonly exited: Promise<void>;

  /**
   * `nodes`: how many nodes the thread is meant to host. Its heap may grow to that many times
   * this thread's own limit, the room they had when each node had a thread (and a heap) of its
   * own: an in-memory cluster keeps its records there.
   */
  constructor(
    private readonly onReply: (reqId: number, result: ClientResult) => void,
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

  /**
   * Queues a client request; requests queued in one event-loop turn travel in one post (up to
   * REQUESTS_PER_POST_MAX), for all of the thread's nodes. Per turn (setImmediate), not per microtask: every HTTP or RESP
   * request arrives in its own socket event, so a microtask flush posted each request alone.
   * Per turn, an HTTP PUT at 64 connections cost 248–292 µs of CPU instead of 321–373 (all
   * threads, bench notes, issue 14).
   */
  request(request: ThreadRequest): void {
    if (this.outbox.length === 0) setImmediate(() => this.flush());
    this.outbox.push(request);
    if (this.outbox.length >= REQUESTS_PER_POST_MAX) this.flush();
  }

  /** Stops the thread at once, and with it every node it hosts. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.post({ type: 'requests', batch });
  }

  private route(message: FromWorker): void {
    if (message.type === 'replies') {
      for (const { reqId, result } of message.batch) this.onReply(reqId, result);
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
