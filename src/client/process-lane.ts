/**
 * The request lane from the front of `ringkv up --processes` to one node process: one long-lived
 * connection that carries every client request to that node, instead of an HTTP exchange each.
 * It opens with `POST /control/lane` (the control token as `Authorization: Bearer`, like every
 * control route; server/control-lane.ts answers) upgraded to `ringkv-lane` by a 101 reply; from
 * then on both directions carry frames (transport/frame.ts) of msgpack batches, written once per
 * event-loop turn (transport/batch-writer.ts):
 *
 *   front → node  [[id, ClientRequest | null], …]       (null: the caller cancelled call id)
 *   node → front  [[id, {kind:"answer", result} | {kind:"down", reason}], …]
 *
 * Calls wait by id; `cancel` forgets the id, so a late answer is dropped, and tells the node,
 * which stops waiting for it too (as an aborted /control/request did). When the lane closes or
 * fails (the node stopped, a malformed frame, the connect timeout), every call still waiting
 * settles `down` at once and the lane is done: the owner opens a new one for the next request.
 * The lane keeps no deadline but the connect timeout: the client above bounds each call. It
 * counts what it does in the node's LaneCounters (lane-counters.ts), which outlive the lane.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import { BatchWriter, entryFits } from '../transport/batch-writer.js';
import { decodeValue, encodeValue } from '../transport/codec.js';
import { FrameDecoder } from '../transport/frame.js';
import { type LaneCloseReason, LaneCounters } from './lane-counters.js';
import type { LinkCall, LinkReply } from './node-link.js';

/** The route a lane opens on. */
export const LANE_PATH = '/control/lane';
/** The protocol named in the `Upgrade` header, both ways. */
export const LANE_PROTOCOL = 'ringkv-lane';
/** Bytes of a refusal's body kept for the reason. */
const REFUSAL_TEXT_MAX = 500;

/** What one lane needs: where, the token, and its bounds (config.ts PROCESS_LANE_*). */
export interface LaneOptions {
  /** The node's own URL, `http://host:port` or `https://host:port`. */
  readonly base: string;
  readonly token: string;
  readonly connectTimeoutMs: number;
  /** Calls waiting at once; past it a send is answered `down` at once. */
  readonly pendingMax: number;
  readonly frameBytesMax: number;
}

type Settle = (reply: LinkReply) => void;

export class ProcessLane {
  private state: 'connecting' | 'open' | 'closed' = 'connecting';
  private readonly pending = new Map<number, Settle>();
  /**
   * Requests sent before the lane opened, by id, written as soon as it does; a call cancelled
   * meanwhile just leaves (the node never hears of it).
   */
  private early = new Map<number, Buffer>();
  private writer: BatchWriter | null = null;
  private socket: Socket | null = null;
  private request: http.ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextId = 1;

  /**
   * Starts connecting at once; `onClosed` hears when the lane is done for good; `counters` (the
   * node's, shared by its successive lanes) count what the lane does.
   */
  constructor(
    private readonly options: LaneOptions,
    private readonly onClosed: (lane: ProcessLane) => void = () => {},
    private readonly counters: LaneCounters = new LaneCounters(options.base),
  ) {
    counters.opened++;
    counters.attach(this);
    this.connect();
  }

  /** Whether the lane is done: its owner opens a new one for the next request. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Calls waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Hands `request` to the node; the reply settles with its answer or `down`. */
  send(request: ClientRequest): LinkCall {
    if (this.state === 'closed') return downNow('is not reachable (its lane is closed)');
    // Entries queued for a socket that asks to wait count too: cancels are entries as well.
    if (this.pending.size + (this.writer?.length ?? 0) >= this.options.pendingMax) {
      this.counters.refused++;
      return downNow(`has ${this.options.pendingMax} requests in flight on its lane already`);
    }
    const id = this.nextId++;
    let entry: Buffer;
    try {
      entry = encodeValue([id, request]);
    } catch (error) {
      return downNow(`cannot be sent this request (${describe(error)})`);
    }
    if (!entryFits(entry.length, this.options.frameBytesMax)) {
      return downNow(`cannot be sent a request of ${entry.length} bytes (past the lane's frames)`);
    }
    const reply = new Promise<LinkReply>((resolve) => this.pending.set(id, resolve));
    this.counters.sent++;
    if (this.writer === null) this.early.set(id, entry);
    else this.writer.push(entry);
    return { reply, cancel: () => this.cancel(id) };
  }

  /** Forgets call `id` (a late answer is dropped) and tells the node to stop waiting for it. */
  private cancel(id: number): void {
    if (!this.pending.delete(id)) return;
    if (this.state === 'closed') return;
    if (this.writer === null) this.early.delete(id);
    else this.writer.push(encodeValue([id, null]));
  }

  /**
   * Closes the lane; calls still waiting settle `down` with `reason`; `cause` is the class it
   * is counted under. Idempotent.
   */
  close(reason: string, cause: LaneCloseReason = 'local'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.counters.closed[cause]++;
    if (this.timer !== null) clearTimeout(this.timer);
    this.writer?.close();
    this.socket?.destroy();
    this.request?.destroy();
    this.early.clear();
    const calls = [...this.pending.values()];
    this.pending.clear();
    this.counters.detach(this);
    this.counters.down += calls.length;
    for (const settle of calls) settle({ kind: 'down', reason });
    this.onClosed(this);
  }

  private connect(): void {
    const { base, token, connectTimeoutMs } = this.options;
    const url = new URL(base);
    const transport = url.protocol === 'https:' ? https : http;
    const req = transport.request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path: LANE_PATH,
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        connection: 'Upgrade',
        upgrade: LANE_PROTOCOL,
        'x-ringkv-request': '1',
        'content-length': '0',
      },
    });
    this.request = req;
    this.timer = setTimeout(() => {
      this.close(
        `is not reachable (its lane did not open within ${connectTimeoutMs} ms)`,
        'timeout',
      );
    }, connectTimeoutMs);
    req.on('upgrade', (res, socket, head) => {
      if (res.headers.upgrade?.toLowerCase() !== LANE_PROTOCOL) {
        socket.destroy();
        this.close(
          `is not reachable (upgraded to ${res.headers.upgrade}, not ${LANE_PROTOCOL})`,
          'error',
        );
        return;
      }
      this.open(socket as Socket, head);
    });
    req.on('response', (res) => this.refused(res));
    req.on('error', (error) => this.close(`is not reachable (${error.message})`, 'error'));
    req.end();
  }

  /** The node answered the upgrade with an ordinary reply: a wrong token, no control, … */
  private refused(res: http.IncomingMessage): void {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < REFUSAL_TEXT_MAX) text += chunk.slice(0, REFUSAL_TEXT_MAX - text.length);
    });
    const done = () => this.close(`refused the lane (${res.statusCode}: ${text})`, 'error');
    res.on('end', done);
    res.on('error', done);
  }

  private open(socket: Socket, head: Buffer): void {
    if (this.state === 'closed') {
      socket.destroy();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.request = null;
    this.state = 'open';
    this.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.options.frameBytesMax);
    const writer = new BatchWriter(socket, this.options.frameBytesMax, () => {
      this.counters.framesWritten++;
    });
    this.writer = writer;
    socket.on('data', (chunk: Buffer) => this.receive(decoder, chunk));
    socket.on('error', (error) =>
      this.close(`stopped before answering (${error.message})`, 'error'),
    );
    socket.on('end', () => this.close('stopped before answering (its lane ended)', 'peer'));
    socket.on('close', () => this.close('stopped before answering (its lane closed)', 'peer'));
    for (const entry of this.early.values()) writer.push(entry);
    this.early.clear();
    if (head.length > 0) this.receive(decoder, head);
  }

  private receive(decoder: FrameDecoder, chunk: Buffer): void {
    for (const body of decoder.push(chunk)) {
      if (this.state !== 'open') return;
      this.counters.framesRead++;
      if (!this.take(body)) {
        this.close('stopped before answering (it sent a malformed lane frame)', 'malformed');
        return;
      }
    }
    const error = decoder.error;
    if (error !== null) {
      this.close(
        `stopped before answering (lane frame: ${error.kind}, ${error.bytes} bytes)`,
        'malformed',
      );
    }
  }

  /** Settles the calls a batch answers; false when the frame is not a batch of replies. */
  private take(body: Buffer): boolean {
    const batch = decodeIdBatch(body);
    if (batch === null) return false;
    for (const [id, reply] of batch) {
      const settle = this.pending.get(id);
      if (settle === undefined) continue; // cancelled: the late answer is dropped
      this.pending.delete(id);
      this.counters.answered++;
      settle(toLinkReply(reply));
    }
    return true;
  }
}

/**
 * A lane frame's body, `[[id, payload], …]` with safe-integer ids, or null when it is anything
 * else. Both ends read their frames with it.
 */
export function decodeIdBatch(body: Buffer): Array<[number, unknown]> | null {
  let batch: unknown;
  try {
    batch = decodeValue(body);
  } catch {
    return null;
  }
  if (!Array.isArray(batch)) return null;
  for (const entry of batch) {
    if (!Array.isArray(entry) || entry.length !== 2 || !Number.isSafeInteger(entry[0])) {
      return null;
    }
  }
  return batch as Array<[number, unknown]>;
}

/** The node's answer, checked for shape; anything else reads as a node that failed. */
export function toLinkReply(answer: unknown): LinkReply {
  const x = answer as { kind?: unknown; result?: unknown; reason?: unknown } | null;
  if (x?.kind === 'answer' && typeof x.result === 'object' && x.result !== null) {
    return { kind: 'answer', result: x.result as ClientResult };
  }
  if (x?.kind === 'down' && typeof x.reason === 'string') return { kind: 'down', reason: x.reason };
  return { kind: 'down', reason: 'answered something that is not a reply' };
}

function downNow(reason: string): LinkCall {
  return { reply: Promise.resolve({ kind: 'down', reason }), cancel() {} };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
