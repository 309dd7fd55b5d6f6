/**
 * One accepted connection: it must send a valid hello within the handshake timeout (and, under
 * TLS, present a certificate naming the node it claims to be), is answered `welcome` or
 * `refused`, and from then on only carries frames of message batches to us. Bytes that break
 * the framing or are not msgpack close it and are counted; a frame that decodes to something
 * other than a batch is dropped and counted, and the connection stays.
 */
import type { Socket } from 'node:net';
import type { NodeId } from '../core/types.js';
import { decodeValue, encodeValue } from './codec.js';
import { FrameDecoder, framed } from './frame.js';
import { type Answer, ASK_LANE, type Checked, type Hello } from './handshake.js';
import type { TcpCounters, TransportEventHandler } from './tcp-stats.js';

/** Largest hello accepted, in bytes: a stranger cannot make us buffer a big first frame. */
const HELLO_BYTES_MAX = 4096;

export interface InboundDeps {
  readonly frameBytesMax: number;
  readonly handshakeTimeoutMs: number;
  /** Checks the hello and, under TLS, that the certificate names the claimed sender. */
  readonly checkHello: (hello: unknown, socket: Socket) => Checked<Hello & { from: NodeId }>;
  readonly welcome: Answer;
  readonly counters: TcpCounters;
  readonly onEvent: TransportEventHandler;
  /** A decoded frame body from an authenticated peer. */
  readonly deliver: (from: NodeId, batch: unknown) => void;
  /** Called once when the connection is gone, whatever the reason. */
  readonly onClose: (connection: InboundConnection) => void;
  /**
   * The one request of an ask-lane connection (handshake.ts ASK_LANE); what it resolves to is
   * written back as the one answer frame, then the connection ends. Absent: asks are refused.
   */
  readonly onAsk?: (from: NodeId, request: unknown) => Promise<unknown>;
  /** How long an ask may take, from its hello to its answer. */
  readonly askTimeoutMs: number;
}

export class InboundConnection {
  private peer: NodeId | null = null;
  private readonly decoder: FrameDecoder;
  private timer: NodeJS.Timeout | null;
  private closed = false;
  /** A refusal was written: whatever else arrives is ignored until the socket is gone. */
  private refused = false;
  /** An ask-lane connection: one request, one answer. */
  private ask: 'none' | 'waiting' | 'answering' = 'none';

  constructor(
    private readonly socket: Socket,
    private readonly deps: InboundDeps,
  ) {
    this.decoder = new FrameDecoder(deps.frameBytesMax, HELLO_BYTES_MAX);
    this.timer = setTimeout(() => this.timedOut(), deps.handshakeTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** The authenticated peer, once its hello was accepted. */
  get from(): NodeId | null {
    return this.peer;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket.destroy();
    this.deps.onClose(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.refused) return;
    const bodies = this.decoder.push(chunk);
    for (const body of bodies) {
      if (this.closed || this.refused) return;
      if (this.peer === null) this.onHello(body);
      else if (this.ask === 'waiting') this.onAsk(this.peer, body);
      else if (this.ask === 'answering') return this.protocolError('a second request on an ask');
      else this.onBatch(this.peer, body);
    }
    const error = this.decoder.error;
    if (error !== null && !this.closed) this.protocolError(`${error.kind} (${error.bytes} bytes)`);
  }

  private onHello(body: Buffer): void {
    let hello: unknown;
    try {
      hello = decodeValue(body);
    } catch {
      return this.protocolError('the hello is not msgpack');
    }
    const checked = this.deps.checkHello(hello, this.socket);
    if (!checked.ok) {
      this.deps.counters.handshakesRefused++;
      const claimed = (hello as { from?: unknown } | null)?.from;
      this.deps.onEvent({
        kind: 'refused',
        direction: 'in',
        reason: checked.reason,
        ...(typeof claimed === 'string' ? { peer: claimed.slice(0, 80) } : {}),
      });
      const refusal = encodeValue({ ringkv: 'refused', reason: checked.reason } satisfies Answer);
      // Say why, then hang up; a peer that never reads the refusal is cut at the timeout.
      this.refused = true;
      this.stopTimer();
      this.timer = setTimeout(() => this.close(), this.deps.handshakeTimeoutMs);
      this.socket.end(framed(refusal));
      return;
    }
    this.stopTimer();
    this.peer = checked.value.from;
    if (checked.value.lane === ASK_LANE) {
      this.ask = 'waiting';
      this.timer = setTimeout(() => this.askTimedOut(), this.deps.askTimeoutMs);
    }
    const welcome = encodeValue(this.deps.welcome);
    this.socket.write(framed(welcome));
    this.deps.onEvent({
      kind: 'connected',
      peer: this.peer,
      direction: 'in',
      reason: checked.value.lane,
    });
  }

  private onBatch(from: NodeId, body: Buffer): void {
    let batch: unknown;
    try {
      batch = decodeValue(body);
    } catch {
      return this.protocolError('a frame is not msgpack');
    }
    this.deps.deliver(from, batch);
  }

  /** The request of an ask: handed to onAsk, its answer written back, then the end. */
  private onAsk(from: NodeId, body: Buffer): void {
    this.ask = 'answering';
    let request: unknown;
    try {
      request = decodeValue(body);
    } catch {
      return this.protocolError('an ask is not msgpack');
    }
    const handler = this.deps.onAsk;
    const answering =
      handler === undefined
        ? Promise.resolve({ ok: false, error: 'this node answers no asks' })
        : handler(from, request);
    answering
      .catch((error: unknown) => ({ ok: false, error: String(error).slice(0, 200) }))
      .then((answer) => {
        if (this.closed) return;
        let encoded: Buffer;
        try {
          encoded = encodeValue(answer);
        } catch {
          return this.protocolError('the answer to an ask cannot be encoded');
        }
        this.stopTimer();
        this.socket.end(framed(encoded));
      });
  }

  private askTimedOut(): void {
    this.timer = null;
    if (this.closed) return;
    this.deps.onEvent({
      kind: 'handshake-timeout',
      direction: 'in',
      reason: `an ask was not answered within ${this.deps.askTimeoutMs} ms`,
      ...(this.peer ? { peer: this.peer } : {}),
    });
    this.close();
  }

  private timedOut(): void {
    this.timer = null;
    if (this.closed || this.peer !== null) return;
    this.deps.counters.handshakeTimeouts++;
    this.deps.onEvent({ kind: 'handshake-timeout', direction: 'in', reason: 'no hello in time' });
    this.close();
  }

  private protocolError(reason: string): void {
    this.deps.counters.protocolErrors++;
    this.deps.onEvent({
      kind: 'protocol-error',
      direction: 'in',
      reason,
      ...(this.peer ? { peer: this.peer } : {}),
    });
    this.close();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
