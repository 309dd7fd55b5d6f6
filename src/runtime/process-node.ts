/**
 * One node as an OS process (`ringkv node`): its durable storage in its data dir, its NodeCore hosted
 * by NodeHost over the TCP transport (mutual TLS unless insecure), and a link for an in-process
 * client that reaches only this node (the link says only it is up, so the client makes it the
 * coordinator of every key and the core forwards a key it does not replicate to a replica).
 *
 * The data dir holds `node.lock` (one process at a time, data-dir-lock.ts), `node.json` (who the
 * node is, node-identity.ts), `peers.json` (where its peers are, peer-book.ts) and `<id>/` (the
 * storage engine's files, log or lmdb: data, hints, actor, ring state).
 *
 * Membership: a node formed with --initial-cluster starts from the ring of those ids; one started
 * with --join asks a member over the transport's ask lane for the ring and the members'
 * addresses, then to run a `join` change, and waits for its commit; members answer such asks
 * (both ends: node-join.ts). Its address travels in its membership record; addresses gossip
 * reports are checked and re-point the transport. A node that was in the ring and is no longer
 * (it left or was removed) gossips a final `left` record and tells its host to stop.
 * Peer liveness comes from the core's own failure detection (SWIM over the transport): there is
 * no launcher here to report that a peer stopped. Like local-cluster.ts, it satisfies the
 * client's NodeLink and ClusterControl shapes without importing client/.
 */
import { mkdirSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import {
  type LogLevel,
  NODE_GREETING_WAIT_MS,
  NODE_LEFT_GOSSIP_WAIT_MS_MAX,
  NODE_MEMBERSHIP_POLL_MS,
  type StorageEngineName,
} from '../config.js';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import { type CoreLimits, NodeCore } from '../core/node.js';
import { nodesOf, type RingState } from '../core/ring-state.js';
import { type NodeId, nodeId } from '../core/types.js';
import { TimeoutError, UnavailableError, ValidationError } from '../errors.js';
import { openStorage, type StorageEngine } from '../storage/index.js';
import { FaultyTransport } from '../transport/faulty.js';
import { isClusterName } from '../transport/handshake.js';
import {
  type PeerAddress,
  TcpTransport,
  type TcpTransportStats,
  type TlsMaterial,
} from '../transport/tcp.js';
import { withTimeout } from '../util/deadline.js';
import { loadOrCreateActor } from './actor.js';
import { CA_CERT_FILE, loadNodeTls, nodeCertFile, nodeKeyFile } from './certs.js';
import { type WorkerStats, workerStats } from './control.js';
import { DataDirLock } from './data-dir-lock.js';
import { hostClocks } from './host-clocks.js';
import { createLogger, type Logger, NodeLog } from './log.js';
import type { NetworkView } from './network-state.js';
import { parseNodeFaults, transportFaults } from './node-faults.js';
import { NodeHost } from './node-host.js';
import { claimIdentity, formatHostPort } from './node-identity.js';
import {
  answerAsk,
  type JoinOptions,
  joinCluster,
  type Member,
  planStart,
  type StartPlan,
} from './node-join.js';
import { PeerBook } from './peer-book.js';
import { PeerWatch } from './peer-watch.js';
import { type RuntimeLink, WorkerRequests } from './worker-requests.js';

/** What `ringkv node` runs with; the join fields are JoinOptions (node-join.ts). */
export interface ProcessNodeOptions extends JoinOptions {
  readonly clusterName: string;
  /** Where to listen for peers (port 0: any free port). */
  readonly listen: PeerAddress;
  /** The address peers dial; @default listen */
  readonly advertise?: PeerAddress;
  readonly dataDir: string;
  /** The engine of a new data directory (config `storageEngine`). @default 'log' */
  readonly storageEngine?: StorageEngineName;
  /** Where ca.crt, <id>.crt and <id>.key are; null only with `insecure`. */
  readonly tlsDir: string | null;
  readonly insecure: boolean;
  readonly forwardSlackMs: number;
  readonly limits: CoreLimits;
  readonly logLevel: LogLevel;
}

export interface ProcessNodeEvents {
  /** The node cannot go on (storage failed, a core invariant broke); it has stopped serving. */
  fatal(error: unknown): void;
  /**
   * The node was in the ring and is no longer: it left (its departure ended once it handed
   * everything over) or it was removed. The process should stop.
   */
  left?(): void;
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
  readonly book: PeerBook;
  /** The address this node gossips (null: it listens on a wildcard and advertises nothing). */
  readonly address: string | null;
}

export class ProcessNode {
  /**
   * What the client sends through: requests to this node only; every peer reads as down.
   * explain gives only this node's own view: it reaches its peers' data only through them.
   */
  readonly link: RuntimeLink;
  private readonly requests: WorkerRequests;
  private readonly host: NodeHost;
  private closing: Promise<void> | null = null;
  /** Whether this node has been in the ring (its leaving or removal then ends the process). */
  private wasMember = false;
  private readonly membershipTimer: NodeJS.Timeout;

  private constructor(
    readonly id: string,
    private readonly parts: Parts,
    requests: WorkerRequests,
    private readonly options: ProcessNodeOptions,
    private readonly events: ProcessNodeEvents,
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
        peerAddress: (peer, address) => this.learnAddress(peer, address),
      },
      new NodeLog(parts.log),
    );
    const member: Member = {
      ...parts,
      options,
      isRunning: () => this.isRunning,
      ask: (request) => this.ask(request),
    };
    parts.tcp.onAsk((from, request) => answerAsk(member, from, request));
    this.membershipTimer = setInterval(() => this.checkMembership(), NODE_MEMBERSHIP_POLL_MS);
    this.membershipTimer.unref();
    this.link = {
      isUp: (node) => node === id && this.isRunning,
      send: (node, request) => requests.send(node, node === id ? this : undefined, request),
      serviceTime: () => requests.serviceTime(),
      stats: async (node) => (node === id && this.isRunning ? this.stats() : null),
      inspect: async (node, key) =>
        node === id && this.isRunning ? (core.read(key) ?? null) : null,
      explain: async (node, key) => (node === id && this.isRunning ? core.explain(key) : null),
    };
    parts.watch.attach(this.host, parts.tcp);
  }

  /** The engine the node's data directory holds: `log` or `lmdb`. */
  get storageKind(): StorageEngine['kind'] {
    return this.parts.storage.kind;
  }

  /** What `/status` shows of the transport (peers as this node knows them now). */
  get transportInfo(): TransportInfo {
    return transportInfoOf(this.options, this.parts.tcp, this.parts.book);
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
    let node: ProcessNode | null = null;
    try {
      const advertise = options.advertise ?? options.listen;
      const tls = options.insecure ? undefined : await readTls(options);
      const { changed, created } = claimIdentity(options.dataDir, identityOf(options, advertise));
      if (changed.length > 0) log.info({ changed }, 'addresses changed since the last start');
      const storage = await openStorage({
        dataDir: options.dataDir,
        nodeId: options.id,
        engine: options.storageEngine ?? 'log',
        onWarning: (message, error) => log.warn({ err: error }, message),
      });
      undo.unshift(() => storage.close());
      const actor = await loadOrCreateActor(options.id, storage);
      const book = loadBook(options);
      const watch = new PeerWatch(book, log);
      const tcp = await startTransport(options, tls, log, watch, book);
      undo.unshift(() => tcp.closeAndWait());
      const address = gossipAddress(options, tcp);
      const plan = await planStart(options, { tcp, storage, book, created, log, address });
      const core = makeCore(options, actor, storage, plan, address);
      const transport = new FaultyTransport(tcp);
      const parts = { lock, storage, tcp, transport, core, actor, log, watch, book, address };
      node = new ProcessNode(options.id, parts, new WorkerRequests(), options, events);
      node.host.input({ kind: 'start' });
      if (plan.mustJoin) await joinCluster({ ...parts, options }, options.join as PeerAddress);
      const greeted = await tcp.greet(NODE_GREETING_WAIT_MS);
      log.info(greeted, 'greeted the peers');
      log.info(
        {
          actor,
          storage: storage.kind,
          keys: storage.count(),
          listen: node.transportInfo.listen,
          tls: tls !== undefined,
        },
        'node started',
      );
      return node;
    } catch (error) {
      if (node !== null) await node.close().catch(() => {});
      else for (const step of undo) await Promise.resolve(step()).catch(() => {});
      throw error;
    }
  }

  get isRunning(): boolean {
    return this.closing === null;
  }

  /** A client request for this node's core (the RequestTarget of WorkerRequests). */
  request(reqId: number, request: ClientRequest): void {
    this.host.input({ kind: 'request', reqId, request });
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
    return workerStats(actor, core, storage, tcp.stats(), transport.faultStats());
  }

  /**
   * Replaces the node's injected network faults (posted by `ringkv up --processes` to the node's
   * control route): checked first, so bad input is a ValidationError and changes nothing.
   */
  applyFaults(input: unknown): void {
    this.parts.transport.setFaults(transportFaults(parseNodeFaults(input), this.id));
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
      clearInterval(this.membershipTimer);
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
    return unsupported('start other nodes (start one with `ringkv node --join`)');
  }

  forget(): Promise<void> {
    return unsupported('remove nodes');
  }

  // --- membership -----------------------------------------------------------------------------

  /** The ring state this node routes by. */
  get ringState(): RingState {
    return this.parts.core.ringState;
  }

  /** Whether this node's failure detection holds `peer` down. */
  isPeerDown(peer: string): boolean {
    return this.parts.core.isPeerDown(nodeId(peer));
  }

  /** An operator request to this node's own core (ring-change, ring-status), bounded in time. */
  async ask(request: ClientRequest): Promise<ClientResult> {
    const call = this.requests.send(this.id, this, request);
    const what = `${request.op} on ${this.id}`;
    const outcome = await withTimeout(
      call.reply,
      request.timeoutMs,
      () => new TimeoutError(`${what} took longer than ${request.timeoutMs} ms`),
    ).catch((error) => {
      call.cancel(); // the table keeps only requests someone still waits for
      throw error;
    });
    if (outcome.kind === 'down') throw new UnavailableError(`node ${this.id} ${outcome.reason}`);
    return outcome.result;
  }

  /** Gossip told the core where `peer` is now: checked, then the transport dials there. */
  private learnAddress(peer: NodeId, text: string): void {
    const { book, tcp, log } = this.parts;
    let address: PeerAddress | null;
    try {
      address = book.set(peer, text);
    } catch (error) {
      log.warn({ peer, reason: (error as Error).message }, 'gossiped address refused');
      return;
    }
    if (address === null) return;
    log.info({ peer, address: text }, 'peer address learned');
    tcp.setPeerAddress(peer, address);
    book.saveOrWarn(log);
  }

  /** A node that left the ring (or was removed) once it had been in it: tell the host, once. */
  private checkMembership(): void {
    if (!this.isRunning) return;
    const state = this.parts.core.ringState;
    const inRing = nodesOf(state).includes(nodeId(this.id));
    if (inRing) {
      this.wasMember = true;
      return;
    }
    if (!this.wasMember || state.next !== null) return;
    clearInterval(this.membershipTimer);
    this.parts.log.info({ ringVersion: state.version }, 'this node is out of the ring: it left');
    // A final `left` record for the peers, given one gossip interval to go out before the stop.
    this.host.input({ kind: 'leave-membership' });
    const gossipMs = this.options.limits.swim?.gossipIntervalMs ?? 0;
    setTimeout(
      () => this.events.left?.(),
      Math.min(gossipMs, NODE_LEFT_GOSSIP_WAIT_MS_MAX),
    ).unref();
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
  const joining = options.join !== undefined;
  if (joining && options.initialCluster.size > 0) {
    throw new ValidationError('give exactly one of --initial-cluster and --join');
  }
  if (!joining && !options.initialCluster.has(options.id)) {
    throw new ValidationError(
      `--initial-cluster must list this node (${options.id}) with its peer address`,
    );
  }
  if (!joining && options.n > options.initialCluster.size) {
    throw new ValidationError(
      `--n ${options.n} needs at least ${options.n} nodes in --initial-cluster, it lists ${options.initialCluster.size}`,
    );
  }
  if (joining && isWildcard((options.advertise ?? options.listen).host)) {
    throw new ValidationError(
      `--join: peers must be able to dial this node, and --listen ${options.listen.host} names no ` +
        'single address: give --advertise HOST:PORT',
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

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
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
    ...(options.join === undefined ? {} : { join: formatHostPort(options.join) }),
  };
}

/**
 * The address this node gossips: --advertise, else --listen (with the port actually bound);
 * null when that is a wildcard (0.0.0.0, ::), which no peer can dial — peers then keep the
 * address their --initial-cluster gives.
 */
function gossipAddress(options: ProcessNodeOptions, tcp: TcpTransport): string | null {
  const chosen = options.advertise ?? options.listen;
  if (isWildcard(chosen.host)) return null;
  const port = chosen.port === 0 ? tcp.address().port : chosen.port;
  return formatHostPort({ host: chosen.host, port });
}

/** peers.json, with the addresses --initial-cluster gives now taking precedence. */
function loadBook(options: ProcessNodeOptions): PeerBook {
  const book = PeerBook.load(options.dataDir, nodeId(options.id));
  for (const [id, address] of options.initialCluster) book.set(id, formatHostPort(address));
  book.save();
  return book;
}

function transportInfoOf(
  options: ProcessNodeOptions,
  tcp: TcpTransport,
  book: PeerBook,
): TransportInfo {
  const peers: Record<string, string> = {};
  for (const [id, address] of book.entries()) peers[id] = formatHostPort(address);
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
  const ids = [...options.initialCluster.keys()].join(',') || options.id;
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
  book: PeerBook,
): Promise<TcpTransport> {
  const peers = new Map(book.entries());
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

/**
 * The core over the plan's ring (every node started with the same --initial-cluster agrees on
 * it; a joiner starts from the member's). It gossips `address` in its membership record, at an
 * incarnation from the wall clock in seconds: above any it reached in an earlier life (it takes
 * one more only per refutation), so its record, and a changed address, win over old copies.
 */
function makeCore(
  options: ProcessNodeOptions,
  actor: string,
  storage: StorageEngine,
  plan: StartPlan,
  address: string | null,
): NodeCore {
  return new NodeCore({
    id: nodeId(options.id),
    actor,
    ring: plan.ring,
    ...(plan.state === undefined ? {} : { ringState: plan.state }),
    n: options.n,
    forwardSlackMs: options.forwardSlackMs,
    limits: options.limits,
    store: storage,
    ...hostClocks(),
    ...(address === null ? {} : { address }),
    incarnation: Math.floor(Date.now() / 1000),
  });
}
