/**
 * Transport over worker_threads MessagePorts, one port per peer (a full mesh wired by the
 * launcher). Messages are plain objects moved by structured clone, which measured 2–3x faster
 * than msgpackr per message. Sends to the same peer are batched into one post, flushed once per
 * event-loop turn (setImmediate), because the per-post cost dominates small messages. A flush
 * per microtask sent each incoming post's answers on their own: every post arrives as its own
 * event, so the cluster bench saw 1.1 messages per post; per turn it sees 10–20, and a put
 * costs about a quarter less CPU.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PeerMessage } from '../core/messages.js';
import type { NodeId } from '../core/types.js';
import {
  deliverBatch,
  type MessageHandler,
  type Transport,
  type TransportStats,
} from './transport.js';

/** Messages one post may carry; a larger outbox is split. Bounds a post's clone time. */
const BATCH_SIZE_MAX = 512;

export class MessageChannelTransport implements Transport {
  private readonly ports = new Map<NodeId, MessagePort>();
  private readonly outbox = new Map<NodeId, PeerMessage[]>();
  private handler: MessageHandler = () => {};
  private flushScheduled = false;
  private closed = false;
  private readonly counters: TransportStats = { sent: 0, received: 0, dropped: 0, batches: 0 };

  /** Adds (or replaces) the port that reaches `peer`. */
  connect(peer: NodeId, port: MessagePort): void {
    this.disconnect(peer);
    this.ports.set(peer, port);
    port.on('message', (batch: unknown) => this.receive(peer, batch));
    port.on('close', () => {
      if (this.ports.get(peer) === port) this.ports.delete(peer);
    });
  }

  /** Closes the port to `peer`, if any. Queued messages for it are dropped. */
  disconnect(peer: NodeId): void {
    const port = this.ports.get(peer);
    if (port === undefined) return;
    this.ports.delete(peer);
    port.close();
  }

  send(to: NodeId, message: PeerMessage): void {
    if (this.closed || !this.ports.has(to)) {
      this.counters.dropped++;
      return;
    }
    let queue = this.outbox.get(to);
    if (queue === undefined) {
      queue = [];
      this.outbox.set(to, queue);
    }
    queue.push(message);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  close(): void {
    this.closed = true;
    for (const peer of [...this.ports.keys()]) this.disconnect(peer);
    this.outbox.clear();
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const [peer, queue] of this.outbox) {
      const port = this.ports.get(peer);
      if (port === undefined) {
        this.counters.dropped += queue.length;
        continue;
      }
      for (let start = 0; start < queue.length; start += BATCH_SIZE_MAX) {
        port.postMessage(queue.slice(start, start + BATCH_SIZE_MAX));
        this.counters.batches++;
      }
      this.counters.sent += queue.length;
    }
    this.outbox.clear();
  }

  private receive(from: NodeId, batch: unknown): void {
    deliverBatch(this.handler, from, batch, this.counters);
  }
}
