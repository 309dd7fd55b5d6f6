/**
 * One long-lived outbound connection to one peer for one lane. Messages are queued encoded (a
 * SendQueue, bounded in messages and bytes) and written as frames of batches, once per
 * microtask, so sends made together share frames. It respects backpressure: when
 * `socket.write()` returns false nothing more is written until 'drain', and the queue absorbs
 * the rest up to its bounds, past which sends are dropped and counted.
 *
 * It dials lazily (on the first message queued) and after a failure or a lost connection
 * redials only while messages wait, with full-jitter exponential backoff: attempt k waits a
 * uniform draw in [d/2, d], d = min(reconnectDelayMaxMs, reconnectDelayBaseMs × 2^k). A
 * completed handshake resets k. The connection carries messages one way, dialer to acceptor;
 * the acceptor writes only its handshake answer, so there is no simultaneous-open ambiguity.
 */
import type { Socket } from 'node:net';
import type { TransportConfig } from '../config.js';
import { assert } from '../core/assert.js';
import type { NodeId } from '../core/types.js';
import { batchFrame } from './batch-writer.js';
import { ARRAY_HEADER_BYTES_MAX, BATCH_MESSAGES_MAX, decodeValue } from './codec.js';
import { FrameDecoder, framed } from './frame.js';
import type { Checked, Lane } from './handshake.js';
import { SendQueue } from './send-queue.js';
import type { TcpCounters, TransportEventHandler } from './tcp-stats.js';

/** Exponent cap of the backoff, so 2^k stays finite whatever the attempt count. */
const BACKOFF_EXPONENT_MAX = 30;
/** Largest handshake answer accepted, in bytes. */
const ANSWER_BYTES_MAX = 4096;

/** An error whose message is a refusal of the peer's identity (from the TLS identity check). */
export class PeerIdentityError extends Error {
  override name = 'PeerIdentityError';
}

export interface PeerConnectionDeps {
  readonly peer: NodeId;
  readonly lane: Lane;
  readonly config: TransportConfig;
  /** Starts a socket (plain or TLS) to the peer's current address; null when it has none. */
  readonly dial: () => Socket | null;
  /** The encoded hello this side sends first. */
  readonly hello: Buffer;
  /** Checks the acceptor's answer; its value is the peer's incarnation. */
  readonly checkAnswer: (answer: unknown) => Checked<string>;
  /** The peer's incarnation as this transport last learned it (either direction), or null. */
  readonly peerIncarnation: () => string | null;
  /** The acceptor named its incarnation: the transport records it and fences every lane. */
  readonly onIncarnation: (incarnation: string) => void;
  /** True when a socket error means the peer was refused (TLS trust or identity), not unreachable. */
  readonly isRefusal: (error: Error) => boolean;
  readonly counters: TcpCounters;
  readonly random: () => number;
  readonly onEvent: TransportEventHandler;
}

type State = 'idle' | 'handshaking' | 'open' | 'backoff' | 'closed';

/** The delay before reconnect attempt `attempt` (0-based), with full jitter in [d/2, d]. */
export function backoffDelayMs(
  config: TransportConfig,
  attempt: number,
  random: () => number,
): number {
  const exponent = Math.min(attempt, BACKOFF_EXPONENT_MAX);
  const ceiling = Math.min(config.reconnectDelayMaxMs, config.reconnectDelayBaseMs * 2 ** exponent);
  const delay = ceiling / 2 + (ceiling / 2) * random();
  assert(delay <= config.reconnectDelayMaxMs, 'backoff is capped');
  return delay;
}

export class PeerConnection {
  private state: State = 'idle';
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private flushScheduled = false;
  private waitingDrain = false;
  private readonly queue: SendQueue;
  /** Callers of open() waiting for the attempt under way to end: true once open. */
  private openWaiters: ((open: boolean) => void)[] = [];

  constructor(private readonly deps: PeerConnectionDeps) {
    this.queue = new SendQueue(deps.config.sendQueueMessagesMax, deps.config.sendQueueBytesMax);
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** Queues one encoded message; counts a drop when the queue is full or the link closed. */
  enqueue(encoded: Buffer): void {
    const { counters } = this.deps;
    if (this.state === 'closed' || !this.queue.push(encoded, this.deps.peerIncarnation())) {
      counters.dropped++;
      if (this.state !== 'closed') counters.queueDrops++;
      return;
    }
    if (this.state === 'idle') this.connect();
    else if (this.state === 'open') this.scheduleFlush();
  }

  /**
   * Dials now even with nothing to send (a greeting: a peer that took us for down learns from
   * the handshake that we run), unless connected or dialing already. Resolves true once the
   * connection is open, false when this attempt fails or the link closes; never rejects.
   */
  open(): Promise<boolean> {
    if (this.state === 'open') return Promise.resolve(true);
    if (this.state === 'closed') return Promise.resolve(false);
    const settled = new Promise<boolean>((resolve) => this.openWaiters.push(resolve));
    if (this.state === 'idle') this.connect();
    return settled;
  }

  /** Ends the wait of every open() caller. */
  private settleOpen(open: boolean): void {
    if (this.openWaiters.length === 0) return;
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const resolve of waiters) resolve(open);
  }

  /**
   * The peer runs again (it dialed us): a link waiting out its backoff dials now, and the next
   * failure backs off from the start. A link that is dialing, open or idle is left alone:
   * dropping a handshake under way would look like a refused one to the peer.
   */
  redialNow(): void {
    if (this.state === 'closed') return;
    this.failures = 0;
    if (this.state !== 'backoff') return;
    this.clearTimer();
    this.deps.counters.reconnects++;
    this.connect();
  }

  /** Drops the current socket (the address changed); waiting messages go to the new one. */
  reset(): void {
    if (this.state === 'closed') return;
    this.dropSocket();
    this.clearTimer();
    this.failures = 0;
    this.state = 'idle';
    // open() callers asked for a connection too: dial the new address for them as well.
    if (this.queue.length > 0 || this.openWaiters.length > 0) this.connect();
  }

  /**
   * The peer is now `incarnation`: messages queued for an earlier life of it are dropped and
   * counted. A reply meant for a process that restarted must never reach its successor, whose
   * operation ids start over (the simulator's network gives the core the same guarantee).
   */
  fence(incarnation: string): void {
    const dropped = this.queue.dropOtherThan(incarnation);
    this.deps.counters.dropped += dropped;
    this.deps.counters.staleDrops += dropped;
  }

  /** Closes for good; waiting messages are dropped and counted. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.settleOpen(false);
    this.clearTimer();
    this.dropSocket();
    this.deps.counters.dropped += this.queue.clear();
  }

  private connect(): void {
    assert(this.state === 'idle' || this.state === 'backoff', 'connect from idle or backoff');
    let socket: Socket | null;
    try {
      socket = this.deps.dial();
    } catch (error) {
      // A dial that throws (it should not: material is checked at start) is one more failure.
      this.state = 'idle';
      this.failed(error instanceof Error ? error.message : String(error));
      return;
    }
    if (socket === null) {
      // No address (yet): the messages wait, bounded, and the next attempt backs off.
      this.state = 'idle';
      this.failed('no address for the peer');
      return;
    }
    this.socket = socket;
    this.state = 'handshaking';
    this.timer = setTimeout(
      () => this.handshakeTimedOut(socket),
      this.deps.config.handshakeTimeoutMs,
    );
    const decoder = new FrameDecoder(ANSWER_BYTES_MAX);
    socket.on('data', (chunk: Buffer) => this.onData(socket, decoder, chunk));
    socket.on('error', (error) => this.onSocketGone(socket, error));
    socket.on('close', () => this.onSocketGone(socket, null));
    socket.on('drain', () => {
      if (this.socket !== socket) return;
      this.waitingDrain = false;
      this.flush();
    });
    socket.write(framed(this.deps.hello));
  }

  private onData(socket: Socket, decoder: FrameDecoder, chunk: Buffer): void {
    if (this.socket !== socket) return;
    if (this.state !== 'handshaking')
      return this.protocolError(socket, 'the acceptor wrote after its answer');
    const [body, ...more] = decoder.push(chunk);
    if (decoder.error !== null)
      return this.protocolError(socket, `bad answer frame: ${decoder.error.kind}`);
    if (body === undefined) return;
    if (more.length > 0) return this.protocolError(socket, 'the acceptor wrote after its answer');
    let answer: unknown;
    try {
      answer = decodeValue(body);
    } catch {
      return this.protocolError(socket, 'the answer is not msgpack');
    }
    const checked = this.deps.checkAnswer(answer);
    if (!checked.ok) {
      this.deps.counters.handshakesRefused++;
      this.deps.onEvent({
        kind: 'refused',
        peer: this.deps.peer,
        direction: 'out',
        reason: checked.reason,
      });
      this.dropSocket();
      return this.failed(checked.reason, false);
    }
    this.clearTimer();
    this.deps.onIncarnation(checked.value);
    this.state = 'open';
    this.failures = 0;
    this.settleOpen(true);
    this.deps.onEvent({
      kind: 'connected',
      peer: this.deps.peer,
      direction: 'out',
      reason: this.deps.lane,
    });
    this.scheduleFlush();
  }

  /**
   * Frames go out once per event-loop turn (setImmediate), as the MessageChannel transport's do:
   * a flush per microtask wrote each incoming frame's answers in a frame of their own.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.waitingDrain) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes frames until the queue is empty or the socket asks us to wait for 'drain'. */
  private flush(): void {
    const socket = this.socket;
    if (this.state !== 'open' || socket === null) return;
    const bodyBytesMax = this.deps.config.frameBytesMax - ARRAY_HEADER_BYTES_MAX;
    while (!this.waitingDrain && this.queue.length > 0) {
      const batch = this.queue.take(BATCH_MESSAGES_MAX, bodyBytesMax);
      assert(batch.length > 0, 'every queued message fits a frame (checked at send)');
      const frame = batchFrame(batch);
      this.deps.counters.sent += batch.length;
      this.deps.counters.batches++;
      if (!socket.write(frame)) this.waitingDrain = true;
    }
  }

  private handshakeTimedOut(socket: Socket): void {
    if (this.socket !== socket || this.state !== 'handshaking') return;
    this.timer = null;
    this.deps.counters.handshakeTimeouts++;
    this.deps.onEvent({
      kind: 'handshake-timeout',
      peer: this.deps.peer,
      direction: 'out',
      reason: 'no answer in time',
    });
    this.dropSocket();
    this.failed('handshake timeout', false);
  }

  private protocolError(socket: Socket, reason: string): void {
    if (this.socket !== socket) return;
    this.deps.counters.protocolErrors++;
    this.deps.onEvent({ kind: 'protocol-error', peer: this.deps.peer, direction: 'out', reason });
    this.dropSocket();
    this.failed(reason, false);
  }

  private onSocketGone(socket: Socket, error: Error | null): void {
    if (this.socket !== socket) return;
    const wasOpen = this.state === 'open';
    this.dropSocket();
    if (error !== null && this.deps.isRefusal(error)) {
      this.deps.counters.handshakesRefused++;
      this.deps.onEvent({
        kind: 'refused',
        peer: this.deps.peer,
        direction: 'out',
        reason: error.message,
      });
      return this.failed(error.message, false);
    }
    const reason = error?.message ?? 'connection closed';
    if (wasOpen) {
      this.deps.onEvent({ kind: 'disconnected', peer: this.deps.peer, direction: 'out', reason });
    }
    this.failed(reason, !wasOpen);
  }

  /** After a failure: back off and redial while messages wait, else go idle. */
  private failed(reason: string, report = true): void {
    if (this.state === 'closed') return;
    this.clearTimer();
    this.settleOpen(false);
    if (report)
      this.deps.onEvent({ kind: 'connect-failed', peer: this.deps.peer, direction: 'out', reason });
    if (this.queue.length === 0) {
      this.state = 'idle';
      return;
    }
    this.state = 'backoff';
    const delay = backoffDelayMs(this.deps.config, this.failures++, this.deps.random);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state !== 'backoff') return;
      this.deps.counters.reconnects++;
      this.connect();
    }, delay);
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.waitingDrain = false;
    if (socket !== null) socket.destroy();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
