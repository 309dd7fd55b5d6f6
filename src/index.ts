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
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { ClusterClient } from './client/cluster-client.js';
import { ControlCaller, ProcessLink } from './client/process-link.js';
import type { Cluster } from './client/types.js';
import {
  coreLimits,
  DEFAULT_CONFIG,
  nodeThreadsFor,
  type RingkvConfig,
  validateConfig,
} from './config.js';
import { Ring } from './core/ring.js';
import { nodeId } from './core/types.js';
import { ValidationError } from './errors.js';
import { LocalCluster } from './runtime/local-cluster.js';
import { readMembership } from './runtime/membership-file.js';
import { ProcessCluster } from './runtime/process-cluster.js';

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
  StorageFullError,
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
  /**
   * How nodes run: worker threads of this process, or `processes` — each node a `ringkv node`
   * child process on loopback, peers over TCP with mutual TLS (`ringkv up --processes`).
   * @default 'threads'
   */
  readonly runtime?: 'threads' | 'processes';
}

/** Starts a local cluster of `nodes` nodes on worker threads (`nodeThreads`) and returns a client bound to it. */
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
  const kind = runtime.runtime ?? 'threads';
  if (kind !== 'threads' && kind !== 'processes') {
    throw new ValidationError(`runtime must be 'threads' or 'processes', got ${String(kind)}`);
  }
  // A durable cluster whose membership changed starts the nodes it has now (membership-file.ts).
  const stored = config.dataDir === null ? null : readMembership(config.dataDir);
  const initial = stored?.initial ?? Array.from({ length: config.nodes }, (_, i) => `n${i + 1}`);
  const ids = stored?.nodes ?? initial;
  if (kind === 'processes') {
    if (logFile !== undefined) {
      throw new ValidationError(
        "logFile is not supported with runtime 'processes' (node logs go to stderr)",
      );
    }
    return startProcesses(config, { initial, nodeIds: ids, removed: stored?.removed ?? [] });
  }
  const ring = Ring.create(initial.map(nodeId), config.partitionCount);
  // Dependency order: the runtime's nodes and links first, then the client over them.
  const local = await LocalCluster.start({
    nodeIds: ids,
    n: config.n,
    owners: ring.owners,
    dataDir: config.dataDir,
    storageEngine: config.storageEngine,
    forwardSlackMs: config.clientTimeoutSlackMs,
    limits: coreLimits(config),
    logLevel: config.logLevel,
    logFile: logFile ?? null,
    threads: nodeThreadsFor(config, availableParallelism()),
  });
  const shape = { ring, nodeIds: ids, removed: stored?.removed ?? [], initial };
  const client = new ClusterClient(config, shape, local.link, local);
  await client.syncMembership();
  return client;
}

/**
 * The cluster with each node a `ringkv node` child process (runtime/process-cluster.ts), reached
 * through the process link (client/process-link.ts) with a fresh control token.
 */
async function startProcesses(
  config: RingkvConfig,
  shape: { initial: readonly string[]; nodeIds: readonly string[]; removed: readonly string[] },
): Promise<Cluster> {
  checkProcessConfig(config);
  const token = randomBytes(32).toString('hex');
  const caller = new ControlCaller(token);
  const processes = await ProcessCluster.start(
    {
      nodeIds: shape.nodeIds,
      initial: shape.initial,
      joinTimeoutMs: config.membershipChangeTimeoutMs,
      n: config.n,
      r: config.r,
      w: config.w,
      readSpeculateMs: config.readSpeculateMs,
      dataDir: config.dataDir,
      storageEngine: config.storageEngine,
      storageBytesMax: config.storageBytesMax,
      logLevel: config.logLevel,
      controlToken: token,
      onClosed: () => caller.close(),
    },
    (url, route, body, timeoutMs) => caller.call(url, route, body, timeoutMs),
  ).catch((error: unknown) => {
    caller.close();
    throw error;
  });
  // A node process builds its first ring from the sorted ids (process-node.ts): so does the client.
  const ring = Ring.create([...shape.initial].sort().map(nodeId), config.partitionCount);
  const link = new ProcessLink(processes.directory, caller);
  const client = new ClusterClient(config, { ...shape, ring }, link, processes);
  try {
    await client.syncMembership();
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
  return client;
}

/**
 * Node processes run with `ringkv node`'s defaults for everything but n, r, w, read speculation
 * and the storage bound (their command line carries those): a setting that would make them
 * behave otherwise than asked is refused rather than silently ignored.
 */
function checkProcessConfig(config: RingkvConfig): void {
  // What each node's command line carries (process-cluster.ts) may differ; the rest may not yet.
  const defaults: RingkvConfig = {
    ...DEFAULT_CONFIG,
    nodes: config.nodes,
    n: config.n,
    readSpeculateMs: config.readSpeculateMs,
    storageBytesMax: config.storageBytesMax,
  };
  const differs = [
    ...(JSON.stringify(coreLimits(config)) !== JSON.stringify(coreLimits(defaults))
      ? ['a core limit']
      : []),
    ...(
      ['partitionCount', 'clientTimeoutSlackMs', 'valueSizeMaxBytes', 'requestTimeoutMs'] as const
    ).filter((name) => config[name] !== DEFAULT_CONFIG[name]),
  ];
  if (differs.length > 0) {
    throw new ValidationError(
      `runtime 'processes' runs nodes with their defaults: ${differs.join(', ')} cannot be changed yet`,
    );
  }
}
