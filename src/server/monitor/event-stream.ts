/**
 * `GET /events`: a Server-Sent Events stream. One ticker serves every client: while at least one
 * is connected it produces an event every `intervalMs` (the next tick is scheduled only after the
 * previous one finished, so a slow cluster never piles ticks up) and writes a heartbeat comment
 * every `heartbeatMs`. At most `clientsMax` clients; a client that stops reading is dropped once
 * `backlogMaxBytes` are waiting for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assert } from '../../core/assert.js';

export interface EventStreamOptions {
  /** @default 500 */
  readonly intervalMs: number;
  /** @default 15000 */
  readonly heartbeatMs: number;
  /** @default 32 */
  readonly clientsMax: number;
  /** @default 1 MiB */
  readonly backlogMaxBytes: number;
}

export const EVENT_STREAM_DEFAULTS: EventStreamOptions = {
  intervalMs: 500,
  heartbeatMs: 15_000,
  clientsMax: 32,
  backlogMaxBytes: 1024 * 1024,
};

/** Tells EventSource how long to wait before reconnecting, in ms. */
const RECONNECT_MS = 1_000;

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private tickTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastEvent: string | null = null;
  /** Some client is connected: ticks keep coming. */
  private running = false;
  /** A tick is producing its event; the next one is scheduled when it finishes. */
  private ticking = false;
  private closed = false;

  constructor(
    private readonly produce: () => Promise<object>,
    private readonly options: EventStreamOptions,
    private readonly log: (line: string) => void,
  ) {
    assert(options.intervalMs > 0, 'intervalMs must be positive');
    assert(options.heartbeatMs > 0, 'heartbeatMs must be positive');
    assert(Number.isSafeInteger(options.clientsMax), 'clientsMax must be an integer');
    assert(options.clientsMax >= 1, 'clientsMax must be at least 1');
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Whether one more client may connect now. */
  hasRoom(): boolean {
    return !this.closed && this.clients.size < this.options.clientsMax;
  }

  /** Takes over the response: headers now, the last event at once if there is one, then ticks. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    assert(this.hasRoom(), 'attach needs room (check hasRoom first)');
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    if (this.lastEvent !== null) res.write(this.lastEvent);
    this.clients.add(res);
    res.once('close', () => this.detach(res));
    if (this.clients.size === 1) this.start();
  }

  /** Ends every stream and refuses new ones (the server is closing). */
  close(): void {
    this.closed = true;
    this.stop();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private detach(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size === 0) this.stop();
  }

  private start(): void {
    this.running = true;
    this.heartbeatTimer = setInterval(
      () => this.broadcast(': heartbeat\n\n'),
      this.options.heartbeatMs,
    );
    this.heartbeatTimer.unref();
    if (!this.ticking) this.schedule(0);
  }

  private stop(): void {
    this.running = false;
    this.lastEvent = null; // a client arriving later must not be shown an old state first
    if (this.tickTimer !== null) clearTimeout(this.tickTimer);
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.tickTimer = null;
    this.heartbeatTimer = null;
  }

  private schedule(delayMs: number): void {
    this.tickTimer = setTimeout(() => this.tick(), delayMs);
    this.tickTimer.unref();
  }

  private tick(): void {
    this.tickTimer = null;
    this.ticking = true;
    this.produce()
      .then((event) => {
        if (!this.running) return;
        this.lastEvent = `data: ${JSON.stringify(event)}\n\n`;
        this.broadcast(this.lastEvent);
      })
      .catch((error: unknown) => {
        this.log(`ringkv http: event stream tick failed: ${String(error)}`);
      })
      .finally(() => {
        this.ticking = false;
        if (this.running) this.schedule(this.options.intervalMs);
      });
  }

  private broadcast(chunk: string): void {
    for (const res of this.clients) {
      if (res.writableLength > this.options.backlogMaxBytes) {
        this.clients.delete(res);
        res.destroy();
      } else {
        res.write(chunk);
      }
    }
    if (this.clients.size === 0) this.stop();
  }
}
