/**
 * `ringkv node`: one node as an OS process (runtime/process-node.ts) serving the full HTTP API
 * itself (`/kv`, `/status`, `/health`, `/metrics`, the dashboard) through a ClusterClient whose
 * link reaches only this node: every request is coordinated here, and the core forwards a key it
 * does not replicate to a replica. Peers are reached over TCP with mutual TLS (or plain TCP with
 * --insecure, said at start-up and in `/status`). On SIGTERM/SIGINT it stops accepting HTTP,
 * lets requests in flight finish within --drain-ms, closes the transport, flushes and closes
 * storage, and exits 0.
 *
 * `--join HOST:PORT` (instead of --initial-cluster) asks the member at that peer address to add
 * this node (runtime/process-node.ts); the HTTP API starts once the join committed. Of the
 * admin routes only DELETE /admin/nodes/:id (`ringkv remove-node`) is served (node-admin.ts):
 * this node runs the leave (or remove) as claimant; a node that left exits 0. The others (kill,
 * partition, …) belong to `ringkv up` and answer 503 here.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClusterClient } from '../client/cluster-client.js';
import type { ClusterAdmin, ClusterStatus, KvClient } from '../client/types.js';
import {
  coreLimits,
  DEFAULT_CONFIG,
  HTTP_LISTEN_BACKLOG,
  type LogLevel,
  NODE_CLOSE_TIMEOUT_MS,
  type RingkvConfig,
  type StorageEngineName,
  validateConfig,
} from '../config.js';
import { Ring } from '../core/ring.js';
import type { RingState } from '../core/ring-state.js';
import { ValidationError } from '../errors.js';
import { createLogger } from '../runtime/log.js';
import { formatHostPort, parseHostPort, parseInitialCluster } from '../runtime/node-identity.js';
import { ProcessNode, type TransportInfo } from '../runtime/process-node.js';
import { AdmissionController, realClock } from '../server/admission.js';
import type { NodeControl } from '../server/control-settings.js';
import { createHttpServer } from '../server/http.js';
import { withTimeout } from '../util/deadline.js';
import { StartupError, startupExitCode } from './exit-codes.js';
import { NodeAdmin } from './node-admin.js';
import { createResp, type RunningResp, startResp } from './resp-serve.js';
import { closeServer, httpTimeoutMs, processIo, readHttpsFiles, type UpIo } from './up.js';
import { httpsOf, isLoopback, USAGE_EXIT_CODE } from './up-options.js';

/** The flags as commander hands them to the action. */
export interface NodeFlags {
  readonly id: string;
  readonly listen: string;
  readonly http: string;
  readonly dataDir: string;
  /** The durable engine of a new data directory; absent: config's default. */
  readonly engine?: StorageEngineName;
  /** config storageBytesMax (--storage-max); absent: the config's. */
  readonly storageMax?: number;
  readonly tlsDir?: string;
  readonly initialCluster?: string;
  readonly join?: string;
  readonly joinTimeout?: number;
  readonly token?: string;
  readonly advertise?: string;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  /** A get asks R replicas and the rest after this many ms; 0 asks all at once. */
  readonly readSpeculateMs?: number;
  readonly insecure?: boolean;
  readonly clusterName: string;
  readonly drainMs: number;
  readonly logLevel?: LogLevel;
  readonly httpCert?: string;
  readonly httpKey?: string;
  /** Serves the /control routes for a supervisor with this token (node-control.ts). */
  readonly controlToken?: string;
  /** Drain and exit when stdin closes: the supervisor that started the node died. */
  readonly exitWithStdin?: boolean;
  /** Serve RESP there too (`--resp HOST:PORT`). @default off */
  readonly resp?: string;
}

/** `/status` of a node process: the cluster status as this node sees it, and its transport. */
export interface NodeProcessStatus extends ClusterStatus {
  readonly transport: TransportInfo;
}

export interface RunningNode {
  readonly url: string;
  readonly server: Server;
  readonly cluster: ClusterClient;
  readonly node: ProcessNode;
  /** The Redis-protocol server, when `--resp` was given. */
  readonly resp: RunningResp | null;
  /** Drains HTTP, then closes the node (transport, storage, data dir lock). */
  shutdown(): Promise<void>;
}

/** Starts the node and its HTTP API and prints where; installs no signal handlers. */
export async function runNode(flags: NodeFlags, io: UpIo = processIo): Promise<RunningNode> {
  const plan = toPlan(flags);
  // Read before anything starts: a wrong path fails at once and leaves nothing running.
  const https = httpsOf(flags);
  const tls = https === null ? null : readHttpsFiles(https);
  const log = createLogger({ level: plan.config.logLevel, node: flags.id });
  let node: ProcessNode;
  let running: RunningNode | null = null;
  const left = (): void => {
    io.out(`ringkv node ${flags.id} left the cluster: stopping`);
    const stop = running === null ? Promise.resolve() : running.shutdown();
    stop.then(
      () => io.exit(0),
      () => io.exit(1),
    );
  };
  try {
    node = await ProcessNode.start(plan.node, { fatal: () => io.exit(1), left }, log);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new StartupError(`could not start node ${flags.id}: ${message}`, startupExitCode(error));
  }
  // A joiner learns the ring from the cluster: route by the one its node started from.
  const ring = Ring.fromOwners(node.ringState.owners);
  const shape = { ring, nodeIds: [flags.id], initial: plan.ids.length > 0 ? plan.ids : [flags.id] };
  const cluster = new ClusterClient(plan.config, shape, node.link, node);
  try {
    await cluster.syncMembership();
    const admin = adminOf(flags, plan, node);
    // One admission bound for the process: HTTP requests and RESP commands both take it.
    const admission = new AdmissionController(
      {},
      realClock(() => cluster.serviceTime()),
    );
    // The admin token, when the environment sets one, guards RESP with AUTH.
    const respServer =
      plan.resp === null
        ? null
        : createResp(
            cluster,
            admission,
            plan.config,
            process.env.RINGKV_ADMIN_TOKEN || null,
            io.err,
          );
    const server = createHttpServer(withTransport(cluster, node), {
      admission,
      ...(respServer === null ? {} : { resp: respServer }),
      bodySizeMaxBytes: plan.config.valueSizeMaxBytes,
      requestTimeoutMs: httpTimeoutMs(plan.config),
      log: io.err,
      stats: cluster,
      explainer: cluster,
      ...(admin === null ? {} : { admin }),
      ...(flags.token ? { adminToken: flags.token } : {}),
      ...(tls === null ? {} : { tls }),
      ...(flags.controlToken === undefined
        ? {}
        : { control: { node: controlOf(node), token: flags.controlToken } }),
    });
    const bound = await listen(server, plan.http);
    const scheme = tls === null ? 'http' : 'https';
    const url = `${scheme}://${formatHostPort({ host: bound.address, port: bound.port })}`;
    let resp: RunningResp | null = null;
    if (respServer !== null && plan.resp !== null) {
      resp = await startResp(respServer, plan.resp).catch((error: unknown) => {
        server.close();
        throw error;
      });
    }
    io.out(banner(url, node, plan.config, resp?.url ?? null));
    const shutdown = async (): Promise<void> => {
      await Promise.all([closeServer(server, flags.drainMs), resp?.server.close()]);
      await withTimeout(
        cluster.close(),
        NODE_CLOSE_TIMEOUT_MS,
        () => new Error(`closing the node took longer than ${NODE_CLOSE_TIMEOUT_MS} ms`),
      );
    };
    running = { url, server, cluster, node, resp, shutdown };
    return running;
  } catch (error) {
    await cluster.close().catch(() => {});
    throw error;
  }
}

interface NodePlan {
  readonly config: RingkvConfig;
  /** The --initial-cluster ids, sorted (none for --join). */
  readonly ids: readonly string[];
  readonly http: { host: string; port: number };
  readonly resp: { host: string; port: number } | null;
  readonly node: Parameters<typeof ProcessNode.start>[0];
}

/** Checks the flags against each other; a StartupError with the usage code names the problem. */
function toPlan(flags: NodeFlags): NodePlan {
  try {
    if ((flags.initialCluster === undefined) === (flags.join === undefined)) {
      throw new ValidationError(
        'give exactly one of --initial-cluster (form a new cluster) and --join (join a running one)',
      );
    }
    const initialCluster =
      flags.initialCluster === undefined
        ? new Map<string, { host: string; port: number }>()
        : parseInitialCluster(flags.initialCluster);
    const join = flags.join === undefined ? undefined : parseHostPort(flags.join, '--join');
    const ids = [...initialCluster.keys()].sort();
    const config: RingkvConfig = {
      ...DEFAULT_CONFIG,
      // A joiner does not know the cluster's size before it asks; n replicas need n nodes.
      nodes: ids.length > 0 ? ids.length : Math.max(flags.n, 1),
      n: flags.n,
      r: flags.r,
      w: flags.w,
      ...(flags.readSpeculateMs === undefined ? {} : { readSpeculateMs: flags.readSpeculateMs }),
      dataDir: flags.dataDir,
      ...(flags.engine === undefined ? {} : { storageEngine: flags.engine }),
      ...(flags.storageMax === undefined ? {} : { storageBytesMax: flags.storageMax }),
      logLevel: flags.logLevel ?? 'info',
    };
    validateConfig(config);
    const listen = parseHostPort(flags.listen, '--listen', true);
    const node = {
      id: flags.id,
      clusterName: flags.clusterName,
      listen,
      ...(flags.advertise === undefined
        ? {}
        : { advertise: parseHostPort(flags.advertise, '--advertise') }),
      initialCluster,
      ...(join === undefined ? {} : { join }),
      ...(flags.joinTimeout === undefined ? {} : { joinTimeoutMs: flags.joinTimeout }),
      dataDir: flags.dataDir,
      storageEngine: config.storageEngine,
      tlsDir: flags.tlsDir ?? null,
      insecure: flags.insecure === true,
      n: config.n,
      partitionCount: config.partitionCount,
      forwardSlackMs: config.clientTimeoutSlackMs,
      limits: coreLimits(config),
      logLevel: config.logLevel,
    };
    const http = parseHostPort(flags.http, '--http', true);
    const resp = flags.resp === undefined ? null : parseHostPort(flags.resp, '--resp', true);
    return { config, ids, http, resp, node };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new StartupError(message, USAGE_EXIT_CODE);
  }
}

/**
 * The admin API of a node process (remove-node), or null: beyond a loopback --http it is
 * served only with --token, as `ringkv up` requires for its admin routes.
 */
function adminOf(flags: NodeFlags, plan: NodePlan, node: ProcessNode): ClusterAdmin | null {
  if (!flags.token && !isLoopback(plan.http.host)) return null;
  return new NodeAdmin(node, plan.config);
}

/** The client the HTTP server serves, its `/status` extended with the node's transport. */
function withTransport(cluster: ClusterClient, node: ProcessNode): KvClient {
  // The ring state the client last synced from. The client's only node is this one, so a sync
  // adopts exactly node.ringState: while that is the same object, a sync would change nothing.
  let synced: RingState | null = null;
  return {
    put: (key, value, options) => cluster.put(key, value, options),
    get: (key, options) => cluster.get(key, options),
    delete: (key, options) => cluster.delete(key, options),
    status: async (): Promise<NodeProcessStatus> => {
      // The ring changes under the client (joins, leaves): take this node's newest first, with
      // a ring-status request to the core only when its ring state changed since the last one.
      const state = node.ringState;
      if (state !== synced) {
        await cluster.syncMembership();
        synced = state;
      }
      return { ...(await cluster.status()), transport: node.transportInfo };
    },
  };
}

/** What the node's supervisor reaches through the /control routes. */
function controlOf(node: ProcessNode): NodeControl {
  return {
    request: (request) => node.link.send(node.id, request),
    stats: () => node.stats(),
    inspect: (key) => node.link.inspect(node.id, key),
    explain: (key) => node.link.explain(node.id, key),
    applyFaults: (faults) => node.applyFaults(faults),
  };
}

function listen(server: Server, at: { host: string; port: number }): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = formatHostPort(at);
      reject(new StartupError(`cannot serve HTTP on ${where} (--http): ${error.message}`, 1));
    });
    const options = { port: at.port, host: at.host, backlog: HTTP_LISTEN_BACKLOG };
    server.listen(options, () => resolve(server.address() as AddressInfo));
  });
}

/** The first line, `ringkv node <id> is up at <url>`, carries the bound address for scripts. */
function banner(
  url: string,
  node: ProcessNode,
  config: RingkvConfig,
  respUrl: string | null,
): string {
  const info = node.transportInfo;
  const peers = Object.entries(info.peers)
    .map(([id, address]) => `${id}=${address}`)
    .join(' ');
  return [
    `ringkv node ${node.id} is up at ${url}`,
    `  api         ${url}/kv/:key (PUT, GET, DELETE); ${url}/status, /metrics, /health`,
    ...(respUrl === null ? [] : [`  redis       ${respUrl} (RESP2/RESP3)`]),
    `  peers       listening on ${info.listen} (${info.tls ? 'mutual TLS' : 'INSECURE: plain TCP'})`,
    `  cluster     ${info.clusterName}: ${peers}`,
    `  quorum      N=${config.n} R=${config.r} W=${config.w}`,
    `  storage     ${node.storageKind} under ${config.dataDir}`,
    `  actor       ${node.actor}`,
  ].join('\n');
}
