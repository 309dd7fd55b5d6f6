/**
 * The RESP server: a node:net server that speaks the Redis protocol (RESP2, RESP3 after
 * `HELLO 3`) to redis-cli, ioredis, redis-benchmark and friends, on top of any KvClient. It
 * bounds its connections (clientsMax: one more is told `-ERR max number of clients reached`
 * and closed), and each connection bounds itself (connection.ts). Commands: commands.ts.
 */
import net, { type AddressInfo, type Server } from 'node:net';
import type { KvClient } from '../../client/types.js';
import { DEFAULT_RESP_CONFIG, type RespConfig, validateRespConfig } from '../../config.js';
import { assert } from '../../core/assert.js';
import type { ServerFacts } from './command.js';
import { commandTable } from './commands.js';
import { RespConnection } from './connection.js';
import { redisParameters } from './handlers-server-config.js';
import type { ParserLimits } from './parser.js';
import { RespStats } from './stats.js';

export interface RespServerOptions {
  /** The cluster's value limit: a larger argument is refused (the connection goes on). */
  readonly valueSizeMaxBytes: number;
  /** The cluster's quorum defaults, reported by RINGKV.CONFIG GET and INFO. */
  readonly defaults: { readonly n: number; readonly r: number; readonly w: number };
  /** ringkv's version, reported by INFO. */
  readonly version: string;
  /** When set, clients must AUTH with it first (the admin token). @default none */
  readonly adminToken?: string | null;
  /** Whether writes are durable when acknowledged (CONFIG GET appendonly). @default false */
  readonly durable?: boolean;
  /** Each node's bound on the bytes of records it holds (CONFIG GET maxmemory). @default 0 */
  readonly storageBytesMax?: number;
  /** Bounds. @default DEFAULT_RESP_CONFIG */
  readonly limits?: Partial<RespConfig>;
  /** Where unexpected errors go. @default a line on stderr */
  readonly log?: (line: string) => void;
}

/** Arguments below this are always accepted whatever the value limit (keys, contexts, options). */
const ARG_BYTES_FLOOR = 64 * 1024;

export class RespServer {
  readonly stats = new RespStats();
  readonly server: Server;
  private readonly connections = new Set<RespConnection>();
  private nextId = 1;

  constructor(client: KvClient, options: RespServerOptions) {
    const limits: RespConfig = { ...DEFAULT_RESP_CONFIG, ...options.limits };
    validateRespConfig(limits);
    assert(Number.isSafeInteger(options.valueSizeMaxBytes), 'valueSizeMaxBytes is an integer');
    const argBytesMax = Math.min(
      Math.max(options.valueSizeMaxBytes, ARG_BYTES_FLOOR),
      limits.bulkBytesMax,
    );
    const parser: ParserLimits = {
      argsMax: limits.argsMax,
      bulkBytesMax: limits.bulkBytesMax,
      argBytesMax,
      commandBytesMax: limits.commandBytesMax,
    };
    const facts: ServerFacts = {
      adminToken: options.adminToken ?? null,
      defaults: options.defaults,
      version: options.version,
      startedAtMs: Date.now(),
      clients: () => this.connections.size,
      commands: commandTable(),
      stats: this.stats,
      redisParameters: redisParameters({
        ...limits,
        durable: options.durable ?? false,
        storageBytesMax: options.storageBytesMax ?? 0,
      }),
    };
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const settings = {
      client,
      server: facts,
      limits,
      parser,
      stats: this.stats,
      log,
      onClose: (connection: RespConnection) => this.connections.delete(connection),
    };
    this.server = net.createServer((socket) => {
      if (this.connections.size >= limits.clientsMax) {
        this.stats.connectionsRejected++;
        socket.on('error', () => {});
        socket.end('-ERR max number of clients reached\r\n');
        return;
      }
      this.stats.connectionsAccepted++;
      this.connections.add(new RespConnection(socket, this.nextId++, settings));
    });
  }

  /** Connections open now. */
  get clients(): number {
    return this.connections.size;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting and closes every connection (commands running are not answered). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections) connection.destroy();
    });
  }
}

export function createRespServer(client: KvClient, options: RespServerOptions): RespServer {
  return new RespServer(client, options);
}
