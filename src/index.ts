/**
 * ringkv's embedded API.
 *
 * ```ts
 * import { startCluster } from 'ringkv';
 * const db = await startCluster({ nodes: 5, n: 3, r: 2, w: 2 });
 * await db.put('user:1', 'Ada');
 * const { values, context } = await db.get('user:1');
 * await db.put('user:1', 'Ada Lovelace', { context });
 * await db.close();
 * ```
 *
 * `connect({ nodes: ['http://127.0.0.1:8080'] })` returns the same data API (put, get, delete,
 * status) over HTTP to nodes that already run (`ringkv up`).
 */
import { ClusterClient } from './client/cluster-client.js';
import type { Cluster } from './client/types.js';
import { coreLimits, DEFAULT_CONFIG, type RingkvConfig, validateConfig } from './config.js';
import { Ring } from './core/ring.js';
import { nodeId } from './core/types.js';
import { ValidationError } from './errors.js';
import { LocalCluster } from './runtime/local-cluster.js';
import { readMembership } from './runtime/membership-file.js';

export {
  type ConnectOptions,
  connect,
  type RemoteClient,
} from './client/remote-client.js';
export type { RemoteTlsOptions } from './client/remote-options.js';
export type * from './client/types.js';
export {
  DEFAULT_CONFIG,
  LOG_LEVELS,
  type LogLevel,
  type RingkvConfig,
  validateConfig,
} from './config.js';
export {
  BusyError,
  OverloadError,
  QuorumError,
  RingkvError,
  SiblingLimitError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from './errors.js';

/** How the local cluster runs, apart from its configuration. */
export interface StartOptions {
  /**
   * A file the launcher and every node append their JSON log lines to (at config `logLevel`).
   * @default stderr
   */
  readonly logFile?: string;
}

/** Starts a local cluster of `nodes` worker threads and returns a client bound to it. */
export async function startCluster(
  options: Partial<RingkvConfig> = {},
  runtime: StartOptions = {},
): Promise<Cluster> {
  const config: RingkvConfig = { ...DEFAULT_CONFIG, ...options };
  validateConfig(config);
  const { logFile } = runtime;
  if (logFile !== undefined && (typeof logFile !== 'string' || logFile === '')) {
    throw new ValidationError('logFile must be a non-empty path');
  }
  // A durable cluster whose membership changed starts the nodes it has now (membership-file.ts).
  const stored = config.dataDir === null ? null : readMembership(config.dataDir);
  const initial = stored?.initial ?? Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
  const ids = stored?.nodes ?? initial;
  const ring = Ring.create(initial.map(nodeId), config.partitionCount);
  // Dependency order: the runtime's nodes and links first, then the client over them.
  const local = await LocalCluster.start({
    nodeIds: ids,
    n: config.n,
    owners: ring.owners,
    dataDir: config.dataDir,
    forwardSlackMs: config.clientTimeoutSlackMs,
    limits: coreLimits(config),
    logLevel: config.logLevel,
    logFile: logFile ?? null,
  });
  const shape = { ring, nodeIds: ids, removed: stored?.removed ?? [], initial };
  const client = new ClusterClient(config, shape, local.link, local);
  await client.syncMembership();
  return client;
}
