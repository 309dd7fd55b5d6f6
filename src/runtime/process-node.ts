/**
 * One node as an OS process (`ringkv node`): its lmdb storage in its data dir, its NodeCore hosted
 * by NodeHost over the TCP transport (mutual TLS unless insecure), and a link for an in-process
 * client that reaches only this node (the link says only it is up, so the client makes it the
 * coordinator of every key and the core forwards a key it does not replicate to a replica).
 *
 * The data dir holds `node.lock` (one process at a time, data-dir-lock.ts), `node.json` (who the
 * node is, node-identity.ts) and `<id>/` (the lmdb environment: data, hints, actor, ring state).
 * Peer liveness comes from the core's own failure detection (SWIM over the transport): there is
 * no launcher here to report that a peer stopped. Like local-cluster.ts, it satisfies the
 * client's NodeLink and ClusterControl shapes without importing client/.
 */
import { mkdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { LogLevel } from '../config.js';
import type { ClientRequest } from '../core/messages.js';
import { type CoreLimits, NodeCore } from '../core/node.js';
import { Ring } from '../core/ring.js';
import { type KeyRecord, nodeId } from '../core/types.js';
import { UnavailableError, ValidationError } from '../errors.js';
import { openStorage, type StorageEngine } from '../storage/index.js';
import { FaultyTransport } from '../transport/faulty.js';
import { isClusterName } from '../transport/handshake.js';
import {
  type PeerAddress,
  TcpTransport,
  type TcpTransportStats,
  type TlsMaterial,
  type TransportEvent,
} from '../transport/tcp.js';
import { loadOrCreateActor } from './actor.js';
import { CA_CERT_FILE, loadNodeTls, nodeCertFile, nodeKeyFile } from './certs.js';
import type { RequestEnvelope, WorkerStats } from './control.js';
import { DataDirLock } from './data-dir-lock.js';
import { createLogger, type Logger, NodeLog } from './log.js';
import type { NetworkView } from './network-state.js';
import { NodeHost } from './node-host.js';
import { claimIdentity, formatHostPort } from './node-identity.js';
import { type PendingCall, WorkerRequests } from './worker-requests.js';

export interface ProcessNodeOptions {
  readonly id: string;
  readonly clusterName: string;
  /** Where to listen for peers (port 0: any free port). */
  readonly listen: PeerAddress;
  /** The address peers dial; @default listen */
  readonly advertise?: PeerAddress;
  /** Every node of the first cluster, this one included: the first ring is made from its ids. */
  readonly initialCluster: ReadonlyMap<string, PeerAddress>;
  readonly dataDir: string;
  /** Where ca.crt, <id>.crt and <id>.key are; null only with `insecure`. */
  readonly tlsDir: string | null;
  readonly insecure: boolean;
  readonly n: number;
  readonly partitionCount: number;
  readonly forwardSlackMs: number;
  readonly limits: CoreLimits;
  readonly logLevel: LogLevel;
}

export interface ProcessNodeEvents {
  /** The node cannot go on (storage failed, a core invariant broke); it has stopped serving. */
  fatal(error: unknown): void;
}

/** What `/status` shows of the node's transport. */
export interface TransportInfo {
  readonly tls: boolean;
  readonly clusterName: string;
  readonly listen: string;
  readonly advertise: string;
  readonly peers: Readonly<Record<string, string>>;
}

/** The parts a started node is made of, in the order they are closed. */
interface Parts {
  readonly lock: DataDirLock;
  readonly storage: StorageEngine;
  readonly tcp: TcpTransport;
  readonly transport: FaultyTransport;
  readonly core: NodeCore;
  readonly actor: string;
  readonly log: Logger;
  readonly watch: PeerWatch;
}

export class ProcessNode {
  /** What the client sends through: requests to this node only; every peer reads as down. */
  readonly link: {
    isUp(node: string): boolean;
    send(node: string, request: ClientRequest): PendingCall;
    stats(node: string): Promise<WorkerStats | null>;
    inspect(node: string, key: string): Promise<KeyRecord | null>;
  };
  readonly transportInfo: TransportInfo;
  private readonly requests: WorkerRequests;
  private readonly host: NodeHost;
  private closing: Promise<void> | null = null;

  private constructor(
    readonly id: string,
    private readonly parts: Parts,
    requests: WorkerRequests,
    options: ProcessNodeOptions,
    events: ProcessNodeEvents,
  ) {
    this.requests = requests;
    const { core, storage, transport } = parts;
    this.host = new NodeHost(
      core,
      storage,
      transport,
      {
        reply: (reqId, result) => requests.reply(reqId, result),
        fatal: (error) => {
          requests.nodeDown(id, 'failed');
          events.fatal(error);
        },
      },
      new NodeLog(parts.log),
    );
    this.link = {
      isUp: (node) => node === id && this.isRunning,
      send: (node, request) => requests.send(node, node === id ? this : undefined, request),
      stats: async (node) => (node === id && this.isRunning ? this.stats() : null),
      inspect: async (node, key) =>
        node === id && this.isRunning ? (core.read(key) ?? null) : null,
    };
    this.transportInfo = transportInfoOf(options, parts.tcp);
    parts.watch.attach(this.host, parts.tcp);
  }

  /**
   * Takes the data dir, checks or writes its identity, opens storage, starts the transport and
   * the core. Anything that fails releases what was taken and throws (a ValidationError for
   * what the operator can fix: a data dir in use or of another node, a missing certificate).
   */
  static async start(
    options: ProcessNodeOptions,
    events: ProcessNodeEvents,
    log: Logger = createLogger({ level: options.logLevel, node: options.id }),
  ): Promise<ProcessNode> {
    checkOptions(options);
    mkdirSync(options.dataDir, { recursive: true });
    const lock = DataDirLock.acquire(options.dataDir);
    const undo: (() => Promise<void> | void)[] = [() => lock.release()];
    try {
      const advertise = options.advertise ?? options.listen;
      const tls = options.insecure ? undefined : await readTls(options);
      const { changed } = claimIdentity(options.dataDir, identityOf(options, advertise));
      if (changed.length > 0) log.info({ changed }, 'addresses changed since the last start');
      const storage = await openStorage({ dataDir: options.dataDir, nodeId: options.id });
      undo.unshift(() => storage.close());
      const actor = await loadOrCreateActor(options.id, storage);
      const watch = new PeerWatch(options.initialCluster, log);
      const tcp = await startTransport(options, tls, log, watch);
      undo.unshift(() => tcp.closeAndWait());
      const core = makeCore(options, actor, storage);
      const transport = new FaultyTransport(tcp);
      const parts = { lock, storage, tcp, transport, core, actor, log, watch };
      const node = new ProcessNode(options.id, parts, new WorkerRequests(), options, events);
      node.host.input({ kind: 'start' });
      log.info(
        { actor, keys: storage.count(), listen: node.transportInfo.listen, tls: tls !== undefined },
        'node started',
      );
      return node;
    } catch (error) {
      for (const step of undo) await Promise.resolve(step()).catch(() => {});
      throw error;
    }
  }

  get isRunning(): boolean {
    return this.closing === null;
  }

  /** A client request for this node's core (the RequestTarget of WorkerRequests). */
  request(envelope: RequestEnvelope): void {
    this.host.input({ kind: 'request', reqId: envelope.reqId, request: envelope.request });
  }

  get actor(): string {
    return this.parts.actor;
  }

  /** The port the transport is bound to (the real one when asked for port 0). */
  get peerPort(): number {
    return this.parts.tcp.address().port;
  }

  stats(): WorkerStats {
    const { transport, tcp, storage, core, actor } = this.parts;
    return {
      actor,
      keys: storage.count(),
      core: core.stats(),
      transport: tcp.stats(),
      faults: transport.faultStats(),
    };
  }

  /** Transport counters with the TCP extras (connections, refusals, queues). */
  transportStats(): TcpTransportStats {
    return this.parts.tcp.stats();
  }

  /**
   * Stops the core, ends requests still waiting (their callers see the node down), closes the
   * transport, flushes and closes storage, and releases the data dir. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    const { tcp, storage, lock, log } = this.parts;
    this.closing = (async () => {
      this.host.stop();
      this.requests.nodeDown(this.id, 'is shutting down');
      await tcp.closeAndWait();
      await storage.close();
      lock.release();
      log.info('node closed');
    })();
    return this.closing;
  }

  // ClusterControl: a node process has no launcher to kill, restart or partition its peers.

  kill(): Promise<boolean> {
    return unsupported('kill nodes');
  }

  restart(): Promise<boolean> {
    return unsupported('restart nodes');
  }

  partition(): Promise<NetworkView> {
    return unsupported('partition the network');
  }

  heal(): Promise<NetworkView> {
    return unsupported('heal the network');
  }

  setNetwork(): Promise<NetworkView> {
    return unsupported('inject network faults');
  }

  setMessageDelays(): Promise<void> {
    return unsupported('inject message delays');
  }

  network(): NetworkView {
    return { delayMs: 0, jitterMs: 0, lossRate: 0, groups: null };
  }

  partitionGroupOf(): number | null {
    return null;
  }

  addNode(): Promise<void> {
    return unsupported('add nodes (--join is not implemented yet)');
  }

  forget(): Promise<void> {
    return unsupported('remove nodes');
  }

  /** The core keeps its ring state in storage and starts from it: nothing to remember here. */
  noteRingState(): void {}

  /** node.json, not a membership file, records who this node is. */
  saveMembership(): void {}
}

function unsupported(what: string): Promise<never> {
  return Promise.reject(new UnavailableError(`a ringkv node process cannot ${what}`));
}

function checkOptions(options: ProcessNodeOptions): void {
  if (!options.initialCluster.has(options.id)) {
    throw new ValidationError(
      `--initial-cluster must list this node (${options.id}) with its peer address`,
    );
  }
  if (options.n > options.initialCluster.size) {
    throw new ValidationError(
      `--n ${options.n} needs at least ${options.n} nodes in --initial-cluster, it lists ${options.initialCluster.size}`,
    );
  }
  // Checked here as well as by the transport: node.json must never record a name it refuses.
  if (!isClusterName(options.clusterName)) {
    throw new ValidationError('--cluster-name must be 1..128 printable characters without spaces');
  }
  if (options.insecure === (options.tlsDir !== null)) {
    throw new ValidationError('give exactly one of --tls-dir and --insecure');
  }
}

function identityOf(options: ProcessNodeOptions, advertise: PeerAddress) {
  const initialCluster: Record<string, string> = {};
  for (const [id, address] of options.initialCluster) initialCluster[id] = formatHostPort(address);
  return {
    id: options.id,
    clusterName: options.clusterName,
    listen: formatHostPort(options.listen),
    advertise: formatHostPort(advertise),
    initialCluster,
  };
}

function transportInfoOf(options: ProcessNodeOptions, tcp: TcpTransport): TransportInfo {
  const peers: Record<string, string> = {};
  for (const [id, address] of options.initialCluster) {
    if (id !== options.id) peers[id] = formatHostPort(address);
  }
  const bound = { host: options.listen.host, port: tcp.address().port };
  return {
    tls: !options.insecure,
    clusterName: options.clusterName,
    listen: formatHostPort(bound),
    advertise: formatHostPort(options.advertise ?? bound),
    peers,
  };
}

/** The node's TLS files; a missing one is an error naming it and the command that makes it. */
async function readTls(options: ProcessNodeOptions): Promise<TlsMaterial> {
  const dir = options.tlsDir ?? '';
  const ids = [...options.initialCluster.keys()].join(',');
  for (const name of [CA_CERT_FILE, nodeCertFile(options.id), nodeKeyFile(options.id)]) {
    const file = path.join(dir, name);
    try {
      await access(file);
    } catch {
      throw new ValidationError(
        `missing ${file}: make the cluster's certificates with ` +
          `\`ringkv certs --dir ${dir} --nodes ${ids}\` and copy ca.crt, ` +
          `${nodeCertFile(options.id)} and ${nodeKeyFile(options.id)} to this node's --tls-dir ` +
          '(or run without TLS with --insecure)',
      );
    }
  }
  return loadNodeTls(dir, options.id);
}

async function startTransport(
  options: ProcessNodeOptions,
  tls: TlsMaterial | undefined,
  log: Logger,
  watch: PeerWatch,
): Promise<TcpTransport> {
  const peers = new Map(
    [...options.initialCluster]
      .filter(([id]) => id !== options.id)
      .map(([id, address]) => [nodeId(id), address] as const),
  );
  if (tls === undefined) {
    log.warn(
      { tls: false },
      'running WITHOUT TLS between nodes (--insecure): peers are not authenticated, traffic is plaintext',
    );
  }
  return TcpTransport.start(
    {
      self: nodeId(options.id),
      cluster: options.clusterName,
      listen: options.listen,
      peers,
      ...(tls === undefined ? { insecure: true } : { tls }),
    },
    {
      onEvent: (event) => {
        if (event.kind === 'refused' || event.kind === 'protocol-error') log.warn(event, 'peer');
        else log.debug(event, 'peer');
        watch.onEvent(event);
      },
    },
  );
}

/** The core over the ring every node started with the same --initial-cluster agrees on. */
function makeCore(options: ProcessNodeOptions, actor: string, storage: StorageEngine): NodeCore {
  const ids = [...options.initialCluster.keys()].sort();
  return new NodeCore({
    id: nodeId(options.id),
    actor,
    // The sorted ids, so the order the list was written in does not matter.
    ring: Ring.create(ids.map(nodeId), options.partitionCount),
    n: options.n,
    forwardSlackMs: options.forwardSlackMs,
    limits: options.limits,
    store: storage,
    // Gossip membership and SWIM failure detection run on the real clock and randomness.
    now: () => performance.now(),
    random: Math.random,
    // Expiry deadlines (TTL) are Unix times: set and judged by this host's wall clock.
    wallClockMs: () => Date.now(),
  });
}

/**
 * What the transport learns about peers, fed to the core as `peer-status` — the process
 * runtime's counterpart of the worker launcher reporting that a worker exited or started:
 * - a dial refused (ECONNREFUSED) means no process listens at the peer's address: it is down;
 * - a completed handshake, either way, means it runs again. When it dialed us, our links to it
 *   are made afresh, so messages to it go out now rather than after a reconnect backoff grown
 *   while it was down (what they held was addressed to its previous life).
 * Timeouts and resets prove nothing (a slow or partitioned peer looks the same) and are left to
 * the core's own suspicion and SWIM.
 */
class PeerWatch {
  private readonly down = new Set<string>();
  private host: NodeHost | null = null;
  private tcp: TcpTransport | null = null;

  constructor(
    private readonly addresses: ReadonlyMap<string, PeerAddress>,
    private readonly log: Logger,
  ) {}

  attach(host: NodeHost, tcp: TcpTransport): void {
    this.host = host;
    this.tcp = tcp;
  }

  onEvent(event: TransportEvent): void {
    const peer = event.peer;
    if (peer === undefined || !this.addresses.has(peer) || this.host === null) return;
    if (event.kind === 'connect-failed' && /ECONNREFUSED/.test(event.reason)) {
      if (this.down.has(peer)) return;
      this.down.add(peer);
      this.log.info({ peer }, 'peer down: its address refuses connections');
      this.host.input({ kind: 'peer-status', peer: nodeId(peer), up: false });
    } else if (event.kind === 'connected' && this.down.delete(peer)) {
      this.log.info({ peer, direction: event.direction }, 'peer up again');
      if (event.direction === 'in') {
        // It dialed us: our own links to it may sit in backoff. (An outbound 'connected' is one
        // of those links, just open: nothing to redo.)
        const address = this.addresses.get(peer) as PeerAddress;
        this.tcp?.removePeer(nodeId(peer));
        this.tcp?.setPeerAddress(nodeId(peer), address);
      }
      this.host.input({ kind: 'peer-status', peer: nodeId(peer), up: true });
    }
  }
}
