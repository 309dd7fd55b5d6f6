/**
 * A Transport wrapper that injects network faults (faults.ts) into any Transport:
 * - a message to a blocked peer is dropped, and so is a message from one (a partition is
 *   two-way, even when only one side knows of it);
 * - each outgoing message is lost with probability `lossRate`;
 * - a delayed message is handed to the inner transport after its delay plus uniform jitter, by
 *   a timer per due millisecond (so messages due together still travel in one batch); at most
 *   `delayedMax` wait at once, later ones are dropped. A delayed message whose peer became
 *   blocked meanwhile is dropped when it falls due.
 * Every drop is counted. With no faults set, `send` is one null check and a direct call, so the
 * inner transport's per-tick batching and throughput are untouched.
 */
import { assert } from '../core/assert.js';
import type { PeerMessage } from '../core/messages.js';
import type { NodeId } from '../core/types.js';
import {
  clampDelayMs,
  DELAYED_MESSAGES_MAX,
  faultsProblem,
  isFaultFree,
  type TransportFaults,
} from './faults.js';
import type { MessageHandler, Transport, TransportStats } from './transport.js';

export interface FaultyTransportDeps {
  /** Uniform draws in [0, 1) for loss and jitter. @default Math.random */
  readonly random?: () => number;
  /** Messages that may wait out a delay at once. @default DELAYED_MESSAGES_MAX */
  readonly delayedMax?: number;
}

export interface FaultStats {
  /** Outgoing messages dropped because their peer is blocked. */
  blockedOut: number;
  /** Incoming messages dropped because their sender is blocked. */
  blockedIn: number;
  /** Outgoing messages dropped by injected loss. */
  lost: number;
  /** Delayed messages dropped because `delayedMax` were already waiting. */
  overflowed: number;
  /** Messages that were delayed (delivered or still waiting). */
  delayed: number;
  /** Delayed messages waiting right now. */
  delayedPending: number;
}

interface Delayed {
  readonly to: NodeId;
  readonly message: PeerMessage;
}

interface ActiveFaults {
  readonly blocked: ReadonlySet<string>;
  readonly faults: TransportFaults;
}

export class FaultyTransport implements Transport {
  private active: ActiveFaults | null = null;
  /** Delayed messages by the millisecond (Date.now) they are due. */
  private readonly buckets = new Map<number, { timer: NodeJS.Timeout; messages: Delayed[] }>();
  private readonly random: () => number;
  private readonly delayedMax: number;
  private closed = false;
  private readonly counters: FaultStats = {
    blockedOut: 0,
    blockedIn: 0,
    lost: 0,
    overflowed: 0,
    delayed: 0,
    delayedPending: 0,
  };

  constructor(
    private readonly inner: Transport,
    deps: FaultyTransportDeps = {},
  ) {
    this.random = deps.random ?? Math.random;
    this.delayedMax = deps.delayedMax ?? DELAYED_MESSAGES_MAX;
    assert(Number.isSafeInteger(this.delayedMax), 'delayedMax must be an integer');
    assert(this.delayedMax >= 0, 'delayedMax must not be negative');
  }

  /** Replaces the current faults. Messages already delayed keep their delay. */
  setFaults(faults: TransportFaults): void {
    const problem = faultsProblem(faults);
    assert(problem === null, `invalid faults: ${problem}`);
    this.active = isFaultFree(faults) ? null : { blocked: new Set(faults.blockedPeers), faults };
  }

  /** Removes every fault; messages already delayed are still delivered. */
  clearFaults(): void {
    this.active = null;
  }

  send(to: NodeId, message: PeerMessage): void {
    const active = this.active;
    if (active === null) return this.inner.send(to, message);
    if (active.blocked.has(to)) {
      this.counters.blockedOut++;
      return;
    }
    const { lossRate, jitterMs } = active.faults;
    if (lossRate > 0 && this.random() < lossRate) {
      this.counters.lost++;
      return;
    }
    const jitter = jitterMs > 0 ? jitterMs * this.random() : 0;
    const delayMs = this.baseDelayMs(active.faults, message, to) + jitter;
    if (delayMs <= 0) return this.inner.send(to, message);
    this.sendLater(to, message, delayMs);
  }

  onMessage(handler: MessageHandler): void {
    this.inner.onMessage((from, message) => {
      const active = this.active;
      if (active?.blocked.has(from)) {
        this.counters.blockedIn++;
        return;
      }
      handler(from, message);
    });
  }

  /** Closes the inner transport and drops every delayed message. */
  close(): void {
    this.closed = true;
    for (const { timer } of this.buckets.values()) clearTimeout(timer);
    this.buckets.clear();
    this.counters.delayedPending = 0;
    this.inner.close();
  }

  /** The inner transport's counters, with the messages faults dropped moved to `dropped`. */
  stats(): TransportStats {
    const inner = this.inner.stats();
    const { blockedOut, blockedIn, lost, overflowed } = this.counters;
    return {
      ...inner,
      received: inner.received - blockedIn,
      dropped: inner.dropped + blockedOut + blockedIn + lost + overflowed,
    };
  }

  faultStats(): FaultStats {
    return { ...this.counters };
  }

  private baseDelayMs(faults: TransportFaults, message: PeerMessage, to: NodeId): number {
    if (faults.delayFor === undefined) return faults.delayMs;
    try {
      return clampDelayMs(faults.delayFor(message, to));
    } catch {
      return 0; // a hook must not take the node down
    }
  }

  /**
   * Parks a message until its due millisecond. Messages due in the same millisecond share one
   * timer and go out in one synchronous loop, so the inner transport still batches them.
   */
  private sendLater(to: NodeId, message: PeerMessage, delayMs: number): void {
    if (this.closed) return this.inner.send(to, message); // the inner transport counts the drop
    if (this.counters.delayedPending >= this.delayedMax) {
      this.counters.overflowed++;
      return;
    }
    const dueMs = Math.ceil(Date.now() + delayMs);
    let bucket = this.buckets.get(dueMs);
    if (bucket === undefined) {
      const messages: Delayed[] = [];
      const timer = setTimeout(() => this.release(dueMs), dueMs - Date.now());
      bucket = { timer, messages };
      this.buckets.set(dueMs, bucket);
    }
    bucket.messages.push({ to, message });
    this.counters.delayed++;
    this.counters.delayedPending++;
  }

  private release(dueMs: number): void {
    const bucket = this.buckets.get(dueMs);
    if (bucket === undefined) return;
    this.buckets.delete(dueMs);
    this.counters.delayedPending -= bucket.messages.length;
    const blocked = this.active?.blocked;
    for (const { to, message } of bucket.messages) {
      if (blocked?.has(to)) this.counters.blockedOut++;
      else this.inner.send(to, message);
    }
  }
}
