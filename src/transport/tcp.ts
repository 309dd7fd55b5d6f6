/**
 * Transport between node processes over TCP, mutual TLS 1.3 by default.
 *
 * Each node listens on one port and dials each peer it sends to. A connection carries messages
 * one way, dialer to acceptor (the acceptor only answers the handshake), so two nodes hold two
 * connections per lane between them and there is no simultaneous-open ambiguity to resolve.
 * There are two lanes per peer, each its own connection and queue: `bulk` for handoff, transfer
 * and anti-entropy pushes, `quorum` for everything else. Separate connections rather than one
 * connection with a priority queue, because a multi-megabyte bulk frame already handed to the
 * socket (and the kernel's buffers behind it) would still sit in front of a quorum message on a
 * shared connection; on its own connection a quorum message waits for nothing but its lane.
 *
 * Under TLS (the default) the cluster CA is the only trust root, both sides present
 * certificates, and the id a peer claims in its hello must be the id its certificate names
 * (cert-identity.ts); the dialer also checks that the certificate names the node it meant to
 * reach. `insecure: true` runs plain TCP with no authentication; stats say so.
 *
 * Frames (frame.ts) carry msgpack arrays of messages (codec.ts). `send` never throws or blocks:
 * what cannot be queued is dropped and counted. A throwing handler is caught and counted.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import {
  createServer as createNetServer,
  connect as netConnect,
  type Server,
  type Socket,
} from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import {
  DEFAULT_TRANSPORT_CONFIG,
  NODE_ASK_TIMEOUT_MS,
  type TransportConfig,
  validateTransportConfig,
} from '../config.js';
import { assert } from '../core/assert.js';
import { type PeerMessage, PROTOCOL_VERSION } from '../core/messages.js';
import type { NodeId } from '../core/types.js';
import { ValidationError } from '../errors.js';
import { valueWithin } from '../util/deadline.js';
import { isNodeIdText } from '../util/node-id.js';
import { type AskAnswer, askOnce } from './ask.js';
import { nodeIdOfCertificate } from './cert-identity.js';
import { ARRAY_HEADER_BYTES_MAX, encodeValue } from './codec.js';
import {
  ANY_NODE,
  type Answer,
  ASK_LANE,
  type Checked,
  checkAnswer,
  checkHello,
  type Expected,
  type Hello,
  isClusterName,
  isIncarnation,
  LANES,
  type Lane,
} from './handshake.js';
import { InboundConnection } from './inbound-connection.js';
import { PeerConnection, PeerIdentityError } from './peer-connection.js';
import {
  emptyCounters,
  type TcpCounters,
  type TcpTransportStats,
  type TransportEventHandler,
} from './tcp-stats.js';
import { deliverBatch, type MessageHandler, type Transport } from './transport.js';

export type { AskAnswer } from './ask.js';
export type { TcpTransportStats, TransportEvent } from './tcp-stats.js';

/** Message types that travel on the bulk lane; every other type is quorum traffic. */
export const BULK_MESSAGE_TYPES: ReadonlySet<PeerMessage['type']> = new Set([
  'handoff',
  'transfer',
  'ae-push',
  'ae-push-reply',
  'ae-descend-reply',
]);

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** PEM material for mutual TLS: the cluster CA and this node's certificate and key. */
export interface TlsMaterial {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface TcpTransportOptions {
  readonly self: NodeId;
  /** Both ends must agree on it (memberlist's cluster label). */
  readonly cluster: string;
  /** Where to listen; port 0 picks a free port (see `address()`). */
  readonly listen: PeerAddress;
  readonly peers?: ReadonlyMap<NodeId, PeerAddress>;
  /** Required unless `insecure`. */
  readonly tls?: TlsMaterial;
  /** Plain TCP, no authentication: only when asked. The caller logs it at start. @default false */
  readonly insecure?: boolean;
  readonly config?: Partial<TransportConfig>;
  /** How long one ask (ask()) may take, either side. @default NODE_ASK_TIMEOUT_MS */
  readonly askTimeoutMs?: number;
}

/** Answers the one request of an ask-lane connection (see handshake.ts ASK_LANE). */
export type AskHandler = (from: NodeId, request: unknown) => Promise<unknown>;

export interface TcpTransportDeps {
  /** Uniform draws in [0, 1) for backoff jitter. @default Math.random */
  readonly random?: () => number;
  /** Connection events for the host's log (refusals, timeouts, protocol errors). */
  readonly onEvent?: TransportEventHandler;
  /** The protocol version this side speaks; only tests set it. @default PROTOCOL_VERSION */
  readonly protocolVersion?: number;
  /** This process's incarnation (8..64 hex digits); only tests set it. @default 16 random hex digits */
  readonly incarnation?: string;
}

export class TcpTransport implements Transport {
  private readonly config: TransportConfig;
  private readonly peers = new Map<NodeId, PeerAddress>();
  /** Outbound links by peer, one per lane. */
  private readonly links = new Map<NodeId, Record<Lane, PeerConnection>>();
  private readonly inbound = new Set<InboundConnection>();
  /** Every accepted TCP socket, TLS handshake still running or not, so close() drops them all. */
  private readonly accepted = new Set<Socket>();
  private readonly counters: TcpCounters = emptyCounters();
  private readonly expected: Expected;
  private readonly onEvent: TransportEventHandler;
  private readonly random: () => number;
  /** This process's incarnation, named in every handshake (see handshake.ts). */
  readonly incarnation: string;
  /** Each peer's incarnation as last named in a handshake either way. */
  private readonly peerIncarnations = new Map<NodeId, string>();
  /** Made once from the TLS material (checked at start), shared by every dial. */
  private readonly secureContext: SecureContext | null;
  private handler: MessageHandler = () => {};
  private askHandler: AskHandler | undefined;
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly options: TcpTransportOptions,
    private readonly server: Server,
    deps: TcpTransportDeps,
  ) {
    this.config = { ...DEFAULT_TRANSPORT_CONFIG, ...options.config };
    this.expected = {
      version: deps.protocolVersion ?? PROTOCOL_VERSION,
      cluster: options.cluster,
      self: options.self,
    };
    this.onEvent = deps.onEvent ?? (() => {});
    const { tls } = options;
    this.secureContext =
      tls === undefined
        ? null
        : createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.3' });
    this.random = deps.random ?? Math.random;
    this.incarnation = deps.incarnation ?? randomBytes(8).toString('hex');
    assert(isIncarnation(this.incarnation), 'an incarnation is 8..64 hex digits');
    for (const [id, address] of options.peers ?? []) this.setPeerAddress(id, address);
  }

  /** Validates the options, listens, and resolves once the port is bound. */
  static async start(
    options: TcpTransportOptions,
    deps: TcpTransportDeps = {},
  ): Promise<TcpTransport> {
    checkOptions(options);
    let transport: TcpTransport | null = null;
    const accept = (socket: Socket) => {
      if (transport === null) socket.destroy();
      else transport.accept(socket);
    };
    const server = makeServer(options, accept, (reason) => transport?.tlsRefused(reason));
    transport = new TcpTransport(options, server, deps);
    server.maxConnections = transport.config.inboundConnectionsMax;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listen.port, options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => {}); // after listen, errors concern single connections
    server.on('connection', (socket: Socket) => transport?.track(socket));
    return transport;
  }

  /** The address the server is bound to (the real port when asked for port 0). */
  address(): PeerAddress {
    const bound = this.server.address();
    assert(bound !== null && typeof bound === 'object', 'the server is listening on TCP');
    return { host: bound.address, port: bound.port };
  }

  /** Adds or changes a peer's address; an open connection to an old address is replaced. */
  setPeerAddress(peer: NodeId, address: PeerAddress): void {
    if (!isNodeIdText(peer)) throw new ValidationError(`invalid node id ${JSON.stringify(peer)}`);
    checkAddress(address, `address of ${peer}`);
    const old = this.peers.get(peer);
    this.peers.set(peer, { host: address.host, port: address.port });
    if (old !== undefined && (old.host !== address.host || old.port !== address.port)) {
      const links = this.links.get(peer);
      if (links !== undefined) for (const lane of LANES) links[lane].reset();
    }
  }

  /**
   * Dials every known peer's quorum link now, with nothing to send, so a peer that took this
   * node for down (it refused a dial while we were not listening yet) learns from the handshake
   * that we run. Resolves with how many handshakes completed, once each attempt ended or after
   * `timeoutMs`, whichever is first; never rejects.
   */
  async greet(timeoutMs: number): Promise<{ reached: number; peers: number }> {
    const links = [...this.peers.keys()].map((peer) => this.linksOf(peer).quorum);
    await valueWithin(Promise.all(links.map((link) => link.open())), timeoutMs);
    return { reached: links.filter((link) => link.isOpen).length, peers: links.length };
  }

  /**
   * The peer is known to run again (it dialed us): links to it waiting out a reconnect backoff
   * dial now, so what they hold goes out at once; links dialing or open are left as they are.
   */
  redial(peer: NodeId): void {
    const links = this.links.get(peer);
    if (links === undefined) return;
    for (const lane of LANES) links[lane].redialNow();
  }

  /** Forgets a peer: its links close and what they held is dropped. */
  removePeer(peer: NodeId): void {
    this.peers.delete(peer);
    const links = this.links.get(peer);
    if (links === undefined) return;
    this.links.delete(peer);
    for (const lane of LANES) links[lane].close();
  }

  send(to: NodeId, message: PeerMessage): void {
    if (this.closed || to === this.options.self || !this.peers.has(to)) {
      this.counters.dropped++;
      return;
    }
    let encoded: Buffer;
    try {
      encoded = encodeValue(message);
    } catch {
      this.counters.dropped++;
      return;
    }
    if (encoded.length + ARRAY_HEADER_BYTES_MAX > this.config.frameBytesMax) {
      this.counters.dropped++;
      this.counters.oversizeDrops++;
      const reason = `${message.type} of ${encoded.length} bytes exceeds frameBytesMax`;
      this.onEvent({ kind: 'oversize', peer: to, direction: 'out', reason });
      return;
    }
    const lane: Lane = BULK_MESSAGE_TYPES.has(message.type) ? 'bulk' : 'quorum';
    this.linksOf(to)[lane].enqueue(encoded);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** Sets who answers asks from peers; until then an ask is answered with a refusal. */
  onAsk(handler: AskHandler): void {
    this.askHandler = handler;
  }

  /**
   * One request to whichever node listens at `address` (its id unknown to us), under the same
   * TLS and handshake as any connection; resolves with its id and answer. Rejects with a reason
   * when it cannot be reached, refuses us, or does not answer within askTimeoutMs.
   */
  ask(address: PeerAddress, request: unknown): Promise<AskAnswer> {
    checkAddress(address, 'ask address');
    const hello: Hello = {
      ringkv: 'hello',
      version: this.expected.version,
      cluster: this.expected.cluster,
      from: this.options.self,
      to: ANY_NODE,
      lane: ASK_LANE,
      incarnation: this.incarnation,
    };
    return askOnce({
      socket: this.dialAddress(address, null),
      hello: encodeValue(hello),
      request,
      timeoutMs: this.askTimeoutMs,
      frameBytesMax: this.config.frameBytesMax,
      checkAnswer: (answer) => checkAnswer(answer, this.expected, ANY_NODE),
    });
  }

  private get askTimeoutMs(): number {
    return this.options.askTimeoutMs ?? NODE_ASK_TIMEOUT_MS;
  }

  /** Stops listening and drops every connection; later sends are dropped. Idempotent. */
  close(): void {
    void this.closeAndWait();
  }

  /** `close()`, resolving once the listening port is released. */
  closeAndWait(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    for (const links of this.links.values()) for (const lane of LANES) links[lane].close();
    for (const connection of [...this.inbound]) connection.close();
    for (const socket of this.accepted) socket.destroy();
    this.accepted.clear();
    this.closing = new Promise((resolve) => this.server.close(() => resolve()));
    return this.closing;
  }

  stats(): TcpTransportStats {
    let connectionsOut = 0;
    let queuedBytes = 0;
    let queuedMessages = 0;
    for (const links of this.links.values()) {
      for (const lane of LANES) {
        const link = links[lane];
        if (link.isOpen) connectionsOut++;
        queuedBytes += link.queuedBytes;
        queuedMessages += link.queuedMessages;
      }
    }
    let connectionsIn = 0;
    for (const connection of this.inbound) if (connection.from !== null) connectionsIn++;
    return {
      ...this.counters,
      insecure: this.options.insecure === true,
      connectionsOut,
      connectionsIn,
      queuedBytes,
      queuedMessages,
    };
  }

  private linksOf(peer: NodeId): Record<Lane, PeerConnection> {
    let links = this.links.get(peer);
    if (links === undefined) {
      links = { quorum: this.makeLink(peer, 'quorum'), bulk: this.makeLink(peer, 'bulk') };
      this.links.set(peer, links);
    }
    return links;
  }

  private makeLink(peer: NodeId, lane: Lane): PeerConnection {
    const hello: Hello = {
      ringkv: 'hello',
      version: this.expected.version,
      cluster: this.expected.cluster,
      from: this.options.self,
      to: peer,
      lane,
      incarnation: this.incarnation,
    };
    return new PeerConnection({
      peer,
      lane,
      config: this.config,
      dial: () => this.dial(peer),
      hello: encodeValue(hello),
      checkAnswer: (answer) => checkAnswer(answer, this.expected, peer),
      peerIncarnation: () => this.peerIncarnations.get(peer) ?? null,
      onIncarnation: (incarnation) => this.learnIncarnation(peer, incarnation),
      isRefusal: (error) => this.options.tls !== undefined && isTlsRefusal(error),
      counters: this.counters,
      random: this.random,
      onEvent: this.onEvent,
    });
  }

  private dial(peer: NodeId): Socket | null {
    const address = this.peers.get(peer);
    if (address === undefined || this.closed) return null;
    return this.dialAddress(address, peer);
  }

  /** A socket to `address`; under TLS its certificate must name `peer` (null: any node). */
  private dialAddress(address: PeerAddress, peer: NodeId | null): Socket {
    const { tls } = this.options;
    if (tls === undefined)
      return netConnect({ host: address.host, port: address.port, noDelay: true });
    const socket: TLSSocket = tlsConnect({
      host: address.host,
      port: address.port,
      secureContext: this.secureContext ?? undefined,
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      // The peer is identified by the node id in its certificate, not by a host name.
      checkServerIdentity: (_host, cert) => {
        const id = cert.raw === undefined ? null : idOfRaw(cert.raw);
        return id === peer || (peer === null && id !== null)
          ? undefined
          : new PeerIdentityError(`dialed ${peer}, its certificate names ${id ?? 'no node'}`);
      },
    });
    socket.setNoDelay(true);
    return socket;
  }

  private track(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.accepted.add(socket);
    socket.once('close', () => this.accepted.delete(socket));
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const welcome: Answer = {
      ringkv: 'welcome',
      version: this.expected.version,
      node: this.options.self,
      incarnation: this.incarnation,
    };
    const connection = new InboundConnection(socket, {
      frameBytesMax: this.config.frameBytesMax,
      handshakeTimeoutMs: this.config.handshakeTimeoutMs,
      checkHello: (hello, s) => this.checkInboundHello(hello, s),
      welcome,
      counters: this.counters,
      onEvent: this.onEvent,
      deliver: (from, batch) => this.receive(from, batch),
      onClose: (c) => this.inbound.delete(c),
      ...(this.askHandler === undefined ? {} : { onAsk: this.askHandler }),
      askTimeoutMs: this.askTimeoutMs,
    });
    this.inbound.add(connection);
  }

  private checkInboundHello(hello: unknown, socket: Socket): Checked<Hello & { from: NodeId }> {
    const checked = this.checkHelloIdentity(hello, socket);
    if (checked.ok) this.learnIncarnation(checked.value.from, checked.value.incarnation);
    return checked;
  }

  /**
   * A peer named its incarnation (in its hello, or in the welcome to our dial). A new one means
   * the peer restarted: what every lane still holds for its previous life is dropped.
   */
  private learnIncarnation(peer: NodeId, incarnation: string): void {
    if (this.peerIncarnations.get(peer) === incarnation) return;
    this.peerIncarnations.set(peer, incarnation);
    const links = this.links.get(peer);
    if (links === undefined) return;
    for (const lane of LANES) links[lane].fence(incarnation);
  }

  private checkHelloIdentity(hello: unknown, socket: Socket): Checked<Hello & { from: NodeId }> {
    const checked = checkHello(hello, this.expected);
    if (!checked.ok || this.options.tls === undefined) return checked;
    const cert = (socket as TLSSocket).getPeerX509Certificate?.();
    const id = cert === undefined ? null : nodeIdOfCertificate(cert);
    if (id !== checked.value.from) {
      return {
        ok: false,
        reason: `claims ${checked.value.from}, its certificate names ${id ?? 'no node'}`,
      };
    }
    return checked;
  }

  private tlsRefused(reason: string): void {
    if (/timeout/i.test(reason)) {
      this.counters.handshakeTimeouts++;
      this.onEvent({ kind: 'handshake-timeout', direction: 'in', reason });
    } else {
      this.counters.handshakesRefused++;
      this.onEvent({ kind: 'refused', direction: 'in', reason: `TLS: ${reason}` });
    }
  }

  private receive(from: NodeId, batch: unknown): void {
    deliverBatch(this.handler, from, batch, this.counters);
  }
}

/**
 * A TLS failure of trust or identity: our identity check, a certificate the CA did not sign,
 * or the peer's alert refusing ours. Anything else (refused, reset, timed out) is reachability.
 */
function isTlsRefusal(error: Error): boolean {
  if (error instanceof PeerIdentityError) return true;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^ERR_SSL_|CERT|SIGNATURE|^ERR_TLS_/.test(code);
}

function idOfRaw(raw: Buffer): NodeId | null {
  try {
    return nodeIdOfCertificate(new X509Certificate(raw));
  } catch {
    return null;
  }
}

function makeServer(
  options: TcpTransportOptions,
  accept: (socket: Socket) => void,
  tlsRefused: (reason: string) => void,
): Server {
  const { tls } = options;
  if (tls === undefined) return createNetServer({ noDelay: true }, accept);
  const server = createTlsServer(
    {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.3',
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: { ...DEFAULT_TRANSPORT_CONFIG, ...options.config }.handshakeTimeoutMs,
    },
    accept,
  );
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    socket.destroy(); // not done for us when this event has a listener
    // Node drops a client certificate it cannot verify with a bare close ("socket hang up");
    // the verification error it found is kept on the socket.
    const unverified = socket.authorizationError;
    tlsRefused(
      unverified ? `client certificate not trusted (${String(unverified)})` : error.message,
    );
  });
  return server;
}

function checkOptions(options: TcpTransportOptions): void {
  if (!isNodeIdText(options.self))
    throw new ValidationError(`invalid node id ${JSON.stringify(options.self)}`);
  if (!isClusterName(options.cluster)) {
    throw new ValidationError('cluster must be 1..128 printable characters without spaces');
  }
  checkAddress(options.listen, 'listen address', true);
  if (options.insecure === true && options.tls !== undefined) {
    throw new ValidationError('insecure and tls exclude each other');
  }
  if (options.insecure !== true && options.tls === undefined) {
    throw new ValidationError('tls material is required unless insecure is set');
  }
  validateTransportConfig({ ...DEFAULT_TRANSPORT_CONFIG, ...options.config });
  if (options.tls !== undefined) checkOwnCertificate(options.tls, options.self);
}

/** A node must hold a certificate for its own id, or every peer would refuse it. */
function checkOwnCertificate(tls: TlsMaterial, self: NodeId): void {
  let id: NodeId | null;
  try {
    id = nodeIdOfCertificate(new X509Certificate(tls.cert));
  } catch (error) {
    throw new ValidationError(`the node certificate cannot be read: ${(error as Error).message}`);
  }
  if (id !== self) {
    throw new ValidationError(
      `the node certificate names ${id ?? 'no node'}, this node is ${self}`,
    );
  }
}

function checkAddress(address: PeerAddress, what: string, portZeroOk = false): void {
  const { host, port } = address;
  if (typeof host !== 'string' || host === '' || host.length > 253) {
    throw new ValidationError(`${what}: host must be a non-empty name or IP`);
  }
  if (!Number.isInteger(port) || port < (portZeroOk ? 0 : 1) || port > 65_535) {
    throw new ValidationError(`${what}: port must be an integer in ${portZeroOk ? 0 : 1}..65535`);
  }
}
