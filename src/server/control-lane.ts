/**
 * The node side of the supervisor's request lanes (client/process-lane.ts has the protocol): the
 * HTTP server hands `ControlLanes.accept` every upgrade request; only `POST /control/lane` with
 * `Upgrade: ringkv-lane` that passes the control token check (request-guard.ts, as every control
 * route) is switched, with a 101; anything else gets an ordinary HTTP error and is closed.
 *
 * On a lane each request is checked with parseClientRequest, as /control/request does, and handed
 * to the node (`[id, null]` cancels call id: the node stops waiting for it); a malformed request, one past the lane's bound of requests in flight, or one that
 * arrives while the server closes is answered `down` for its id. A frame that is not a batch of
 * `[id, request]` pairs (or a bad frame length) closes the lane; nothing on a lane throws out of a
 * listener. Answers queue and go out once per event-loop turn. The core's own deadline ends every
 * request; closing the lane cancels what it still waits for. When the server closes, each lane
 * takes no new requests, ends once its requests are answered, and is cut after `drainMs`.
 */
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { decodeIdBatch, LANE_PATH, LANE_PROTOCOL } from '../client/process-lane.js';
import { parseClientRequest } from '../core/messages.js';
import { BatchWriter } from '../transport/batch-writer.js';
import { encodeValue } from '../transport/codec.js';
import { FrameDecoder } from '../transport/frame.js';
import type { ControlSettings, NodeControl } from './control-settings.js';
import { HttpError } from './http-error.js';
import { guardRequest } from './request-guard.js';

/** A lane's bounds (config.ts PROCESS_LANE_*; drainMs: the server's request timeout). */
export interface LaneLimits {
  /** Requests in flight on one lane (waiting or answered and not yet written). */
  readonly pendingMax: number;
  readonly frameBytesMax: number;
  /** After the server starts closing, how long a lane may take to answer what it holds. */
  readonly drainMs: number;
}

/** The lanes of one HTTP server. */
export class ControlLanes {
  private readonly lanes = new Set<ControlLane>();
  private closing = false;

  constructor(
    private readonly control: ControlSettings,
    private readonly limits: LaneLimits,
  ) {}

  /** Open lanes. */
  get size(): number {
    return this.lanes.size;
  }

  /** The server's 'upgrade' listener: switches a lane request, refuses anything else. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      if (this.closing) throw new HttpError(503, 'SHUTTING_DOWN', 'the node is shutting down');
      checkUpgrade(req, this.control.token);
    } catch (error) {
      refuse(socket, error);
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${LANE_PROTOCOL}\r\n\r\n`,
    );
    const lane = new ControlLane(socket as Socket, this.control.node, this.limits, () =>
      this.lanes.delete(lane),
    );
    this.lanes.add(lane);
    lane.receive(head);
  }

  /** The server is closing: each lane drains, then ends (cut after drainMs). */
  close(): void {
    this.closing = true;
    for (const lane of [...this.lanes]) lane.drain();
  }
}

/** Throws an HttpError when `req` is not a lane request the token allows. */
function checkUpgrade(req: IncomingMessage, token: string): void {
  const path = (req.url ?? '').split('?')[0];
  if (path !== LANE_PATH) throw new HttpError(404, 'NO_ROUTE', `no upgrade for ${path}`);
  if (req.method !== 'POST') {
    throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'the lane opens with POST', { Allow: 'POST' });
  }
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (upgrade !== LANE_PROTOCOL) {
    throw new HttpError(400, 'BAD_UPGRADE', `${LANE_PATH} upgrades to ${LANE_PROTOCOL} only`);
  }
  guardRequest(req, true, { adminToken: token });
}

/** Writes an HTTP error reply on a socket that will not be upgraded, then closes it. */
function refuse(socket: Duplex, error: unknown): void {
  const status = error instanceof HttpError ? error.status : 500;
  const code = error instanceof HttpError ? error.code : 'INTERNAL';
  const message = error instanceof HttpError ? error.message : 'internal error';
  const body = JSON.stringify({ error: message, code });
  const extra = error instanceof HttpError ? error.headers : {};
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(extra).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.on('error', () => {}); // the caller may be gone already
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

interface Call {
  cancel(): void;
}

/** One lane: requests in, answers out. */
class ControlLane {
  private readonly pending = new Map<number, Call>();
  private readonly decoder: FrameDecoder;
  private readonly writer: BatchWriter;
  private draining = false;
  private closed = false;
  private drainTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly node: NodeControl,
    private readonly limits: LaneLimits,
    private readonly onClosed: () => void,
  ) {
    this.decoder = new FrameDecoder(limits.frameBytesMax);
    this.writer = new BatchWriter(socket, limits.frameBytesMax);
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.close());
    // The HTTP server's sockets allow half-open: a front that ends its side ends the lane.
    socket.on('end', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Feeds bytes read from the socket. */
  receive(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    for (const body of this.decoder.push(chunk)) {
      const batch = parseBatch(body);
      if (batch === null) {
        this.close();
        return;
      }
      for (const [id, input] of batch) this.start(id, input);
    }
    if (this.decoder.error !== null) this.close();
  }

  /** Takes no new requests; ends once the ones it holds are answered, cut after drainMs. */
  drain(): void {
    if (this.closed || this.draining) return;
    this.draining = true;
    this.drainTimer = setTimeout(() => this.close(), this.limits.drainMs);
    this.drainTimer.unref();
    if (this.pending.size === 0) this.writer.end();
  }

  private start(id: number, input: unknown): void {
    if (input === null) return this.cancel(id);
    if (this.pending.has(id)) {
      this.close(); // the front never reuses an id in flight: this is not our front
      return;
    }
    if (this.draining) return this.write(id, down('is shutting down'));
    if (this.pending.size + this.writer.length >= this.limits.pendingMax) {
      return this.write(id, down(`has ${this.limits.pendingMax} requests in flight on its lane`));
    }
    const request = parseClientRequest(input);
    if (request === null) return this.write(id, down('got a malformed client request'));
    const call = this.node.request(request);
    this.pending.set(id, call);
    call.reply.then(
      (answer) => this.answer(id, call, answer),
      (error: unknown) =>
        this.answer(id, call, down(error instanceof Error ? error.message : String(error))),
    );
  }

  /** The front stopped waiting for call `id`: so does the node (no answer goes back). */
  private cancel(id: number): void {
    const call = this.pending.get(id);
    if (call === undefined) return; // answered already
    this.pending.delete(id);
    call.cancel();
    if (this.draining && this.pending.size === 0) this.writer.end();
  }

  private answer(id: number, call: Call, answer: unknown): void {
    if (this.pending.get(id) !== call) return; // the lane closed meanwhile
    this.pending.delete(id);
    this.write(id, answer);
    if (this.draining && this.pending.size === 0) this.writer.end();
  }

  private write(id: number, answer: unknown): void {
    let entry: Buffer;
    try {
      entry = encodeValue([id, answer]);
    } catch (error) {
      entry = encodeValue([id, down(`could not encode its answer (${String(error)})`)]);
    }
    if (!this.writer.fits(entry.length)) {
      entry = encodeValue([id, down(`answered ${entry.length} bytes, past the lane's frames`)]);
    }
    this.writer.push(entry);
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.writer.close();
    this.socket.destroy();
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) call.cancel();
    this.onClosed();
  }
}

/**
 * A frame's `[[id, request | null], …]` (null: a cancel), or null when it is anything else (or a
 * request id repeats in it).
 */
function parseBatch(body: Buffer): Array<[number, unknown]> | null {
  const batch = decodeIdBatch(body);
  if (batch === null) return null;
  const ids = new Set<number>();
  for (const [id, request] of batch) {
    if (request === null) continue; // a cancel
    if (ids.has(id)) return null;
    ids.add(id);
  }
  return batch;
}

function down(reason: string): { kind: 'down'; reason: string } {
  return { kind: 'down', reason };
}
