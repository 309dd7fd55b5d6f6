/**
 * `ringkv up`: start a local cluster, serve the HTTP API on it, print where and what, and shut
 * down cleanly on SIGINT/SIGTERM (close the server, then the cluster, exit 0; a second signal
 * forces exit 1). Process effects go through UpIo so the lead's integration tests can drive it.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Cluster, ClusterStatus } from '../client/types.js';
import {
  DEFAULT_CONFIG,
  HTTP_LISTEN_BACKLOG,
  nodeThreadsFor,
  type RingkvConfig,
} from '../config.js';
import { AdmissionController, realClock } from '../server/admission.js';
import { createHttpServer } from '../server/http.js';
import { StartupError, startupExitCode } from './exit-codes.js';
import { createResp, type RunningResp, startResp } from './resp-serve.js';
import { type UpPlan, USAGE_EXIT_CODE } from './up-options.js';

/** Time on top of the cluster's own deadlines for the HTTP layer to read a request body. */
const BODY_READ_ALLOWANCE_MS = 5_000;

export interface UpIo {
  out(line: string): void;
  err(line: string): void;
  exit(code: number): void;
  onSignal(signal: NodeJS.Signals, handler: () => void): void;
}

export interface RunningUp {
  readonly url: string;
  readonly server: Server;
  readonly cluster: Cluster;
  /** The Redis-protocol server, when `--resp` was given. */
  readonly resp?: RunningResp | null;
  /** Closes the HTTP (and RESP) server, then the cluster. */
  shutdown(): Promise<void>;
}

export { StartupError };

export const processIo: UpIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => process.exit(code),
  onSignal: (signal, handler) => process.on(signal, handler),
};

/** Starts everything and installs the signal handlers; throws StartupError on failure. */
export async function runUp(plan: UpPlan, io: UpIo = processIo): Promise<RunningUp> {
  const running = await startUp(plan, io);
  installShutdown(running, io);
  return running;
}

/** Starts the cluster and the HTTP server and prints the summary; installs no handlers. */
export async function startUp(plan: UpPlan, io: UpIo): Promise<RunningUp> {
  const config: RingkvConfig = { ...DEFAULT_CONFIG, ...plan.config };
  // Read before anything starts: a wrong path fails at once and leaves nothing running.
  const tls = plan.https ? readHttpsFiles(plan.https) : null;
  // A start that fails after the cluster made a new data directory removes it again.
  const dataDir = plan.config.dataDir ?? null;
  const fresh = dataDir !== null && !existsSync(dataDir);
  const cluster = await startClusterOrFail(plan.config, plan.runtime ?? 'threads');
  try {
    // One admission bound for the process: every front (HTTP now, RESP too) takes this one.
    const admission = new AdmissionController(
      {},
      realClock(() => cluster.serviceTime?.() ?? null),
    );
    const respServer =
      plan.resp === undefined || plan.resp === null
        ? null
        : createResp(cluster, admission, config, plan.adminToken ?? null, io.err);
    const server = createHttpServer(cluster, {
      admission,
      ...(respServer === null ? {} : { resp: respServer }),
      ...(cluster.laneStats() === null ? {} : { lanes: cluster }),
      bodySizeMaxBytes: config.valueSizeMaxBytes,
      requestTimeoutMs: httpTimeoutMs(config),
      log: io.err,
      admin: cluster,
      stats: cluster,
      explainer: cluster,
      ...(plan.adminToken ? { adminToken: plan.adminToken } : {}),
      ...(tls === null ? {} : { tls }),
    });
    const address = await listen(server, plan);
    const url = formatUrl(address, plan.https ? 'https' : 'http');
    let resp: RunningResp | null = null;
    if (respServer !== null && plan.resp !== undefined && plan.resp !== null) {
      const at = { host: plan.host, port: plan.resp };
      resp = await startResp(respServer, at).catch(async (error: unknown) => {
        server.close();
        throw error;
      });
    }
    io.out(formatSummary(url, await cluster.status(), config, resp?.url ?? null));
    const shutdown = async (): Promise<void> => {
      await Promise.all([closeServer(server, httpTimeoutMs(config)), resp?.server.close()]);
      await cluster.close();
    };
    return { url, server, cluster, resp, shutdown };
  } catch (error) {
    await cluster.close().catch(() => {});
    if (fresh) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** The HTTP deadline: the client's worst case (request timeout plus slack) and a body read. */
export function httpTimeoutMs(config: RingkvConfig): number {
  return config.requestTimeoutMs + config.clientTimeoutSlackMs + BODY_READ_ALLOWANCE_MS;
}

async function startClusterOrFail(
  options: Partial<RingkvConfig>,
  runtime: 'threads' | 'processes',
): Promise<Cluster> {
  const { startCluster } = await import('../index.js');
  try {
    return await startCluster(options, { runtime });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new StartupError(`could not start the cluster: ${message}`, startupExitCode(error));
  }
}

function listen(server: Server, plan: UpPlan): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new StartupError(listenErrorMessage(error, plan), startupExitCode(error)));
    };
    server.once('error', onError);
    server.listen({ port: plan.port, host: plan.host, backlog: HTTP_LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export function listenErrorMessage(error: NodeJS.ErrnoException, plan: UpPlan): string {
  const where = `${plan.host}:${plan.port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${plan.port} on ${plan.host} is already in use; choose another with --port (0 picks a free one)`;
    case 'EACCES':
      return `permission denied to listen on ${where}; use a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: the address is not on this machine (try --host 127.0.0.1)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: unknown host ${plan.host}`;
    default:
      return `cannot listen on ${where}: ${error.message}`;
  }
}

function formatUrl(address: AddressInfo, scheme: 'http' | 'https'): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

/** The HTTPS certificate and key; a file that cannot be read is a start-up error naming it. */
export function readHttpsFiles(files: { certFile: string; keyFile: string }): {
  cert: Buffer;
  key: Buffer;
} {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new StartupError(`cannot read the HTTPS ${what} ${file}: ${reason}`, USAGE_EXIT_CODE);
    }
  };
  return { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
}

/**
 * The banner printed once the API is up. Its first line, `ringkv is up at <url>`, carries the
 * bound address (the real port when `--port 0`), for scripts and tests to parse. It lists only
 * routes that exist.
 */
export function formatSummary(
  url: string,
  status: ClusterStatus,
  config: RingkvConfig,
  respUrl: string | null = null,
  cores: number = availableParallelism(),
): string {
  const { n, r, w } = status.config;
  const perNode = status.nodes.map((node) => `${node.id}:${node.partitions}`).join(' ');
  const processes = status.nodes.some((node) => node.process);
  const storage =
    config.dataDir !== null
      ? `${status.config.engine ?? config.storageEngine} under ${config.dataDir}`
      : processes
        ? `${config.storageEngine} in a temporary directory (removed on exit)`
        : 'in memory (lost on exit)';
  return [
    `ringkv is up at ${url}`,
    `  dashboard   ${url}/`,
    `  metrics     ${url}/metrics`,
    `  api         ${url}/kv/:key (PUT, GET, DELETE)`,
    `  status      ${url}/status`,
    ...(respUrl === null
      ? []
      : [`  redis       ${respUrl} (RESP2/RESP3: redis-cli -u ${respUrl})`]),
    // Not a link: /admin/ itself is no route (it answered 404), only its POST routes are.
    '  admin       POST /admin/nodes/:id/kill|restart, /admin/partition, /admin/heal, /admin/network',
    `  nodes       ${status.nodes.length}${processes ? '' : ` on ${threadsOf(config, cores)}`}`,
    ...processLines(status),
    `  partitions  ${status.ring.partitionCount} (per node ${perNode})`,
    `  quorum      N=${n} R=${r} W=${w}`,
    `  storage     ${storage}`,
    `  try         curl -X PUT --data-binary hello ${url}/kv/greeting && curl ${url}/kv/greeting`,
    'Press Ctrl-C to stop.',
  ].join('\n');
}

/** How many worker threads the nodes share, as the banner says it. */
function threadsOf(config: RingkvConfig, cores: number): string {
  const threads = nodeThreadsFor(config, cores);
  return `${threads} worker thread${threads === 1 ? '' : 's'}`;
}

/** With `--processes`: each node's own HTTP URL and pid (nothing for worker threads). */
function processLines(status: ClusterStatus): string[] {
  const lines = status.nodes.flatMap((node) =>
    node.process ? [`    ${node.id}  ${node.process.url}  pid ${node.process.pid}`] : [],
  );
  if (lines.length === 0) return [];
  return ['  processes   one OS process per node, TCP + mutual TLS between them:', ...lines];
}

/** How often a draining server closes the keep-alive connections that went idle. */
const DRAIN_SWEEP_MS = 50;

/**
 * Stops accepting, lets requests in flight finish, and cuts what still runs after
 * `forceAfterMs`. A keep-alive connection whose request ends during the drain would otherwise
 * stay open, and hold the exit back, until its keep-alive timeout: each is closed once idle.
 */
export function closeServer(server: Server, forceAfterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), forceAfterMs);
    force.unref();
    const sweep = setInterval(() => server.closeIdleConnections(), DRAIN_SWEEP_MS);
    server.close((error) => {
      clearTimeout(force);
      clearInterval(sweep);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** First SIGINT/SIGTERM: orderly shutdown, exit 0 (1 if it fails). Second: exit 1 at once. */
export function installShutdown(running: RunningUp, io: UpIo): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      io.err(`${signal} again: forcing exit`);
      io.exit(1);
      return;
    }
    stopping = true;
    io.err(`${signal} received: shutting down (press Ctrl-C again to force)`);
    running.shutdown().then(
      () => io.exit(0),
      (error: unknown) => {
        io.err(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
        io.exit(1);
      },
    );
  };
  io.onSignal('SIGINT', () => onSignal('SIGINT'));
  io.onSignal('SIGTERM', () => onSignal('SIGTERM'));
}
