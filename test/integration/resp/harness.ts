/**
 * A real in-memory worker-thread cluster with a RESP server in front of it, on a free port,
 * plus raw-socket helpers for the tests that must see the bytes (framing, bounds).
 */
import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { RespConfig } from '../../../src/config.js';
import { type Cluster, startCluster } from '../../../src/index.js';
import { RespServer } from '../../../src/server/resp/server.js';

export interface RespHarness {
  readonly cluster: Cluster;
  readonly server: RespServer;
  readonly port: number;
  /** An ioredis client on the server (closed by close()). */
  redis(options?: RedisOptions): Redis;
  close(): Promise<void>;
}

export async function startRespHarness(
  options: {
    readonly limits?: Partial<RespConfig>;
    readonly adminToken?: string;
    readonly cluster?: Cluster;
    readonly valueSizeMaxBytes?: number;
  } = {},
): Promise<RespHarness> {
  const valueSizeMaxBytes = options.valueSizeMaxBytes ?? 1024 * 1024;
  const cluster =
    options.cluster ??
    (await startCluster({ nodes: 3, n: 3, r: 2, w: 2, valueSizeMaxBytes, requestTimeoutMs: 2000 }));
  const server = new RespServer(cluster, {
    valueSizeMaxBytes,
    defaults: { n: 3, r: 2, w: 2 },
    version: 'test',
    adminToken: options.adminToken ?? null,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    log: () => {},
  });
  const { port } = await server.listen(0, '127.0.0.1');
  const clients: Redis[] = [];
  return {
    cluster,
    server,
    port,
    redis(redisOptions = {}) {
      const client = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        enableOfflineQueue: true,
        ...redisOptions,
      });
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.disconnect();
      await server.close();
      if (options.cluster === undefined) await cluster.close();
    },
  };
}

/** A raw socket: send bytes, read what came back until `until` holds or the socket closes. */
export class RawClient {
  private received = Buffer.alloc(0);
  closed = false;
  private waiters: Array<() => void> = [];
  readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  connected(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.readyState === 'open') resolve();
      else this.socket.once('connect', () => resolve());
    });
  }

  send(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  /** Waits (at most `timeoutMs`) until the bytes received satisfy `until`, or the socket closed. */
  async read(until: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!until(this.text) && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no such reply within ${timeoutMs} ms; got ${JSON.stringify(this.text.slice(0, 200))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.text;
  }

  /** Waits until the server closed the socket. */
  async closedByServer(timeoutMs = 10_000): Promise<void> {
    await this.read(() => false, timeoutMs).catch(() => {});
    if (!this.closed)
      throw new Error(`the server did not close the connection within ${timeoutMs} ms`);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A request as a multibulk. */
export function command(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
