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
 */
import { ClusterClient } from './client/cluster-client.js';
import { readMembership } from './client/membership-file.js';
import type { Cluster } from './client/types.js';
import { coreLimits, DEFAULT_CONFIG, isLogLevel, LOG_LEVELS, type RingkvConfig } from './config.js';
import { Ring } from './core/ring.js';
import { nodeId } from './core/types.js';
import { ValidationError } from './errors.js';
import { Launcher } from './runtime/launcher.js';

export type * from './client/types.js';
export { DEFAULT_CONFIG, LOG_LEVELS, type LogLevel, type RingkvConfig } from './config.js';
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

/** Nodes a local cluster may have: each is a thread with its own storage. */
const NODES_MAX = 64;

/** Checks a full configuration; throws a ValidationError naming the first bad field. */
export function validateConfig(config: RingkvConfig): void {
  const int = (name: keyof RingkvConfig, min: number, max: number) => {
    const value = config[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ValidationError(
        `${name} must be an integer between ${min} and ${max}, got ${String(value)}`,
      );
    }
  };
  int('nodes', 1, NODES_MAX);
  int('n', 1, config.nodes);
  int('r', 1, config.n);
  int('w', 1, config.n);
  int('partitionCount', config.nodes, 65_536);
  if ((config.partitionCount & (config.partitionCount - 1)) !== 0) {
    throw new ValidationError(
      `partitionCount must be a power of two, got ${config.partitionCount}`,
    );
  }
  int('requestTimeoutMs', 1, 600_000);
  int('clientTimeoutSlackMs', 0, 600_000);
  int('valueSizeMaxBytes', 1, 64 * 1024 * 1024);
  int('keySizeMaxBytes', 1, 1024);
  int('inFlightMax', 1, 10_000_000);
  int('hintsPerTargetMax', 1, 100_000_000);
  int('handoffIntervalMs', 1, 3_600_000);
  int('handoffBatchKeysMax', 1, 100_000);
  int('tombstoneGraceMs', 0, 30 * 86_400_000);
  int('siblingsSoftMax', 1, config.siblingsMax);
  int('siblingsMax', 1, 100_000);
  int('vvEntriesMax', 1, 100_000);
  int('antiEntropyIntervalMs', 1, 3_600_000);
  int('antiEntropyPartitionsMax', 1, 65_536);
  int('antiEntropyKeysMax', 1, 1_000_000);
  int('transferBatchKeysMax', 1, 100_000);
  int('changeSenderWaitMs', 0, 86_400_000);
  int('gossipIntervalMs', 10, 60_000);
  int('probeIntervalMs', 20, 60_000);
  int('probeTimeoutMs', 1, config.probeIntervalMs - 1);
  int('suspicionMult', 1, 100);
  int('transferBatchesMax', 1, 1024);
  int('membershipChangeTimeoutMs', 1, 86_400_000);
  int('retryAttemptsMax', 1, 100);
  int('retryDelayBaseMs', 0, 600_000);
  int('retryDelayMaxMs', config.retryDelayBaseMs, 600_000);
  if (config.dataDir !== null && (typeof config.dataDir !== 'string' || config.dataDir === '')) {
    throw new ValidationError('dataDir must be a non-empty path or null');
  }
  if (!isLogLevel(config.logLevel)) {
    throw new ValidationError(
      `logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(config.logLevel)}`,
    );
  }
}

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
  const client = new ClusterClient(config, ring, ids, {
    removed: stored?.removed ?? [],
    initial,
  });
  const launcher = await Launcher.start(
    {
      nodeIds: ids,
      n: config.n,
      owners: ring.owners,
      dataDir: config.dataDir,
      forwardSlackMs: config.clientTimeoutSlackMs,
      limits: coreLimits(config),
      logLevel: config.logLevel,
      logFile: logFile ?? null,
    },
    {
      reply: (reqId, result) => client.onReply(reqId, result),
      nodeDown: (id, reason) => client.onNodeDown(id, reason),
    },
  );
  client.attach(launcher);
  await client.syncMembership();
  return client;
}
