/**
 * How nodes reach each other. The core assumes nothing beyond this contract, so the same node
 * runs over MessageChannels, TCP (later) or the simulator's network:
 * - `send` never throws and never blocks; delivery is best effort. A message may be lost (peer
 *   down, connection reset), and callers must treat it so: every wait in the core has a timeout.
 * - Messages to one peer are not guaranteed to arrive in order, or only once.
 * - A message never reaches a later life of its peer: mail for a process that restarted is
 *   lost, not handed to its successor, whose operation ids start over (a late ack must not
 *   complete a new operation). MessageChannels are rewired on restart; TCP fences by the
 *   incarnation each side names in its handshake; the simulator drops an older link's mail.
 * - Received messages are untrusted `unknown` values: the receiver validates them.
 */
import type { PeerMessage } from '../core/messages.js';
import type { NodeId } from '../core/types.js';

export type MessageHandler = (from: NodeId, message: unknown) => void;

export interface Transport {
  /** Queues `message` for `to`. A message to an unknown or closed peer is dropped (and counted). */
  send(to: NodeId, message: PeerMessage): void;
  /** Sets the single receiver of incoming messages. A throwing handler is caught and counted. */
  onMessage(handler: MessageHandler): void;
  /** Drops every connection; later sends are dropped. Idempotent. */
  close(): void;
  stats(): TransportStats;
}

export interface TransportStats {
  /** Messages handed to the underlying channel. */
  sent: number;
  /** Messages received and passed to the handler. */
  received: number;
  /**
   * Messages dropped: unknown peer, closed transport, malformed batch, a throwing handler, or an
   * injected fault (see faulty.ts).
   */
  dropped: number;
  /** Underlying posts (several messages travel in one post). */
  batches: number;
}

/**
 * Hands a received batch to the handler, message by message, counting into `counters`: a batch
 * that is not an array is dropped whole; a throwing handler drops that message only (a listener
 * must never throw: a throw there would take the worker or process down with it).
 */
export function deliverBatch(
  handler: MessageHandler,
  from: NodeId,
  batch: unknown,
  counters: Pick<TransportStats, 'received' | 'dropped'>,
): void {
  if (!Array.isArray(batch)) {
    counters.dropped++;
    return;
  }
  for (const message of batch) {
    try {
      handler(from, message);
      counters.received++;
    } catch {
      counters.dropped++;
    }
  }
}
