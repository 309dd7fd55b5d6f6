/**
 * Every tunable of ringkv with its default, its valid range and, where it has one, its formula.
 * Runtimes, the CLI, the HTTP server and the embedded API start from `DEFAULT_CONFIG` and
 * override fields, and read the shared limits below from here rather than keep their own copy.
 * (The protocol core cannot import this file: `coreLimits` and `membershipConfig` hand it what
 * it needs.)
 */
import { ValidationError } from './errors.js';

/** The durable storage engines (`storageEngine`). */
export const STORAGE_ENGINES = ['log', 'lmdb'] as const;
export type StorageEngineName = (typeof STORAGE_ENGINES)[number];

/** The most `valueSizeMaxBytes` may be set to: no value any cluster accepts is larger. */
export const VALUE_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** Nodes a cluster may be configured with, so also the largest n, r or w anyone may ask for. */
export const NODES_MAX = 64;
/**
 * Longest request timeout, timeout slack or retry delay anyone may ask for (config, client
 * options, HTTP `timeout_ms`, CLI `--timeout`): longer waits are almost always a mistake.
 */
export const TIMEOUT_MS_MAX = 600_000;
/**
 * Bounds of a request's own options, which client/validate.ts checks for every front end (the
 * embedded API, the HTTP query string): r and w in QUORUM_MIN..n, pr and pw in
 * PRIMARIES_MIN..(r or w), timeouts in TIMEOUT_MS_MIN..TIMEOUT_MS_MAX.
 */
export const QUORUM_MIN = 1;
/** 0: any replica counts towards the quorum. */
export const PRIMARIES_MIN = 0;
export const TIMEOUT_MS_MIN = 1;
/** Longest an add-node or remove-node may be waited for (config and per call). */
export const MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX = 86_400_000;
/** How long the CLI's add-node and remove-node wait for the data to move, unless told. */
export const MEMBERSHIP_CHANGE_WAIT_MS_DEFAULT = 600_000;
/**
 * SWIM: helpers asked to ping a peer on our behalf before we suspect it (memberlist LAN: 3).
 * Not a config field: fixed for every cluster. @default 3
 */
export const INDIRECT_CHECKS = 3;
/**
 * Lifeguard: a suspect with a lone accuser waits this many times the minimum suspicion timeout
 * (suspicionMult × max(1, log10 n) × probeIntervalMs) before it is declared dead. @default 6
 */
export const SUSPICION_MAX_TIMEOUT_MULT = 6;

// --- Expiry (TTL): a write's deadline; see README "Expiry (TTL)" ---------------------------
/** Longest TTL a write may carry (PutOptions.ttlMs 1..TTL_MS_MAX, ms): about 100 years. */
export const TTL_MS_MAX = 100 * 365 * 86_400_000;
/** Latest absolute deadline (PutOptions.expiresAtMs 1..EXPIRES_AT_MS_MAX, Unix ms): year 9999. */
export const EXPIRES_AT_MS_MAX = 253_402_300_799_999;
/** Keys whose deadline passed that one node tick stores as tombstones (1..1_000_000). @default 1000 */
export const EXPIRY_SWEEP_KEYS_MAX = 1000;

/** Log levels from most to least verbose; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export interface RingkvConfig {
  /** Number of storage nodes the local cluster starts with. @default 5 */
  readonly nodes: number;
  /**
   * Worker threads the local cluster's nodes share (the thread runtime; a process node is its
   * own process). 0 picks `nodeThreadsFor`: min(nodes, max(1, cores − 1)), leaving a core to the
   * thread that serves clients (HTTP, RESP, the embedded API's caller). Nodes on one thread
   * pass messages by reference within it instead of posting structured clones across threads;
   * on 2 cores a PUT cost half the CPU with all 5 nodes on one thread. A node that fails stops
   * alone; a thread that crashes takes its nodes down with it. @default 0
   */
  readonly nodeThreads: number;
  /** Replicas per key: the length of a key's preference list. @default 3 */
  readonly n: number;
  /** Replies a get waits for before answering (1..n). R + W > N gives read-your-writes. @default 2 */
  readonly r: number;
  /** Acks a put or delete waits for before answering (1..n). @default 2 */
  readonly w: number;
  /**
   * Ring partitions (Q in the Dynamo paper, "ring_size" in Riak): equal-size hash ranges spread
   * over the nodes. A power of two; a node owns about Q / nodes of them, so a join moves about
   * 1/(nodes+1) of the keys. 1024 keeps max/mean keys per node at or under 1.10 up to 64 nodes
   * (see bench/ring.bench.ts). @default 1024
   */
  readonly partitionCount: number;
  /** How long a coordinator waits for R/W replies before answering with a QuorumError. @default 2000 */
  readonly requestTimeoutMs: number;
  /**
   * Targeted reads with speculative retry (Cassandra's read path): a get asks only R replicas
   * (the coordinator itself first, then primaries in preference order) and asks the rest of its
   * targets when those have not all answered after this many ms, or when what they hold is only
   * tombstones (so reaping still hears every primary). Read repair then covers the replicas
   * asked. 0 asks every target at once (Riak's read path): more read repair, about twice the
   * replica messages per get. Set it above the replicas' p99 round trip (a few ms between
   * threads on one host; 20 ms leaves room for a loaded 2-core machine), or most gets speculate.
   * A get's first answer never waits longer than this for a slow or dead-but-not-yet-suspected
   * replica. @default 20
   */
  readonly readSpeculateMs: number;
  /**
   * Extra time the client waits past `requestTimeoutMs` for the coordinator's own answer before
   * giving up with a TimeoutError (covers a dead or stalled coordinator). @default 1000
   */
  readonly clientTimeoutSlackMs: number;
  /** Largest value accepted, in bytes; larger puts fail with a ValidationError (HTTP 413). @default 1 MiB */
  readonly valueSizeMaxBytes: number;
  /** Longest key accepted, in UTF-8 bytes. @default 1024 */
  readonly keySizeMaxBytes: number;
  /**
   * Directory for durable node data (a directory per node below it). `null` keeps data in
   * memory, lost when a node stops. @default null
   */
  readonly dataDir: string | null;
  /**
   * The durable engine of a new node directory under `dataDir`: `log` keeps every record in
   * memory and appends each write to a log (group commit, background compaction; data must fit
   * in memory), `lmdb` keeps records in an lmdb B-tree on disk (larger than memory, more bytes
   * written per write). A node directory that already holds data keeps the engine it was
   * written with. @default 'log'
   */
  readonly storageEngine: StorageEngineName;
  /**
   * Most requests one node coordinates at once; past it new requests fail fast with an
   * OverloadError instead of queueing without limit. @default 10000
   */
  readonly inFlightMax: number;
  /**
   * Bytes of records one node may hold in memory (the log and memory engines keep all of them
   * there) before it coordinates no new values: a put past it fails with StorageFullError (HTTP
   * 507, RESP -OOM), while deletes, reads and replica writes go on, so a node whose data
   * outgrows the machine refuses writes instead of failing. Counted as values, keys and 96
   * bytes per sibling. 0: no bound (lmdb keeps its data on disk and is never bounded).
   * @default 0
   */
  readonly storageBytesMax: number;
  /**
   * Distinct keys a node holds hints for, per down replica. At the bound it refuses further
   * hints for that replica (the write then needs its W acks elsewhere, or fails with a
   * QuorumError); anti-entropy repairs what hints could not carry. @default 100000
   */
  readonly hintsPerTargetMax: number;
  /**
   * A node's periodic tick: hint batches to their owners, pings to suspected peers, transfer
   * batches and their resends, ring-version gossip, a claimant's commit check. Also the unit of
   * changeSenderWaitMs (ceil(changeSenderWaitMs / tickIntervalMs) ticks). @default 1000
   */
  readonly tickIntervalMs: number;
  /** Keys per handoff message (one batch in flight per owner). @default 128 */
  readonly handoffBatchKeysMax: number;
  /** Keys per batch when a membership change streams a partition to a new replica. @default 128 */
  readonly transferBatchKeysMax: number;
  /**
   * Value bytes per handoff or transfer batch (a batch always carries at least one key). With
   * transferBatchKeysMax × valueSizeMaxBytes = 128 MiB a batch of large values would exceed the
   * TCP frame (frameBytesMax, 32 MiB), be dropped at every send, and stall its change for good;
   * keep it well below frameBytesMax. @default 8 MiB
   */
  readonly batchBytesMax: number;
  /**
   * Transfer batches a node keeps in flight at once (the next goes when one is acked), so a
   * membership change cannot starve client traffic. @default 4
   */
  readonly transferBatchesMax: number;
  /**
   * How long the claimant of a membership change waits for a sender that is down before it
   * commits without it (its new replicas then fill by anti-entropy). @default 30000
   */
  readonly changeSenderWaitMs: number;
  /** Gossip: push-pull of the membership digest with one random peer this often. @default 200 */
  readonly gossipIntervalMs: number;
  /** Failure detection: one direct ping to the next peer (round robin) this often. @default 1000 */
  readonly probeIntervalMs: number;
  /** A ping unanswered this long goes indirect through 3 helpers; < probeIntervalMs. @default 500 */
  readonly probeTimeoutMs: number;
  /**
   * A suspect is declared dead after suspicionMult × max(1, log10 n) × probeIntervalMs at the
   * earliest (more confirmations) and 6× that with a lone accuser (Lifeguard). @default 4
   */
  readonly suspicionMult: number;
  /** How long addNode/removeNode wait for the change to commit and every drain to finish. @default 300000 */
  readonly membershipChangeTimeoutMs: number;
  /**
   * How long a tombstone that every replica holds is kept before it is reaped. Must exceed the
   * time hints take to reach a returning replica, or a late hint could bring a value back.
   * @default 60000
   */
  readonly tombstoneGraceMs: number;
  /** Siblings of one key past which a put's result carries a warning (Riak: 25). @default 25 */
  readonly siblingsSoftMax: number;
  /** Siblings of one key past which a put is refused until a write resolves them (Riak: 100). @default 100 */
  readonly siblingsMax: number;
  /**
   * Entries kept in a write's causal past; beyond it the smallest counters are pruned. Pruning
   * can only make versions look concurrent (an extra sibling), never drop a write. @default 64
   */
  readonly vvEntriesMax: number;
  /**
   * How often a node starts a Merkle-tree anti-entropy exchange with the next peer (one at a
   * time; an exchange compares all shared partitions' roots in one message pair). @default 2000
   */
  readonly antiEntropyIntervalMs: number;
  /** Differing partitions one exchange repairs at most (the rest wait for the next). @default 64 */
  readonly antiEntropyPartitionsMax: number;
  /** Differing keys one exchange repairs at most, so repair cannot starve clients. @default 1000 */
  readonly antiEntropyKeysMax: number;
  /** Attempts per client request, the first included (retries use the same request id). @default 3 */
  readonly retryAttemptsMax: number;
  /** Upper bound of the first retry's jittered delay; doubles per retry. @default 50 */
  readonly retryDelayBaseMs: number;
  /** Longest delay between two attempts. @default 1000 */
  readonly retryDelayMaxMs: number;
  /**
   * Least severe level logged, as JSON lines on stderr from the launcher and every node: `trace`,
   * `debug` (every request, replica message and reply with its trace id), `info` (node starts,
   * stops, kills, restarts), `warn`, `error`, `fatal` or `silent`. The embedded API only warns
   * by default, so library users are not spammed; `ringkv up --log-level` sets it. @default 'warn'
   */
  readonly logLevel: LogLevel;
}

export const DEFAULT_CONFIG: RingkvConfig = Object.freeze({
  nodes: 5,
  nodeThreads: 0,
  n: 3,
  r: 2,
  w: 2,
  partitionCount: 1024,
  requestTimeoutMs: 2000,
  readSpeculateMs: 20,
  clientTimeoutSlackMs: 1000,
  valueSizeMaxBytes: 1024 * 1024,
  keySizeMaxBytes: 1024,
  dataDir: null,
  storageEngine: 'log',
  inFlightMax: 10_000,
  storageBytesMax: 0,
  hintsPerTargetMax: 100_000,
  tickIntervalMs: 1000,
  handoffBatchKeysMax: 128,
  changeSenderWaitMs: 30_000,
  gossipIntervalMs: 200,
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  suspicionMult: 4,
  transferBatchKeysMax: 128,
  batchBytesMax: 8 * 1024 * 1024,
  transferBatchesMax: 4,
  membershipChangeTimeoutMs: 300_000,
  tombstoneGraceMs: 60_000,
  siblingsSoftMax: 25,
  siblingsMax: 100,
  vvEntriesMax: 64,
  antiEntropyIntervalMs: 2000,
  antiEntropyPartitionsMax: 64,
  antiEntropyKeysMax: 1000,
  retryAttemptsMax: 3,
  retryDelayBaseMs: 50,
  retryDelayMaxMs: 1000,
  logLevel: 'warn',
});

/** What a config field may be: an integer in min..max, a bound possibly read from other fields. */
type Bound = number | ((config: RingkvConfig) => number);
type IntegerField = {
  [K in keyof RingkvConfig]: RingkvConfig[K] extends number ? K : never;
}[keyof RingkvConfig];

/**
 * The valid range of every integer field, in the order they are checked (the first bad one is
 * reported). A bound may read another field: `n` is at most `nodes`, `r` and `w` at most `n`.
 */
export const CONFIG_RANGES: { readonly [K in IntegerField]: readonly [min: Bound, max: Bound] } =
  Object.freeze({
    nodes: [1, NODES_MAX],
    nodeThreads: [0, (c) => c.nodes],
    n: [1, (c) => c.nodes],
    r: [1, (c) => c.n],
    w: [1, (c) => c.n],
    partitionCount: [(c) => c.nodes, 65_536], // and a power of two
    requestTimeoutMs: [1, TIMEOUT_MS_MAX],
    readSpeculateMs: [0, TIMEOUT_MS_MAX],
    clientTimeoutSlackMs: [0, TIMEOUT_MS_MAX],
    valueSizeMaxBytes: [1, VALUE_SIZE_LIMIT_BYTES],
    keySizeMaxBytes: [1, 1024],
    inFlightMax: [1, 10_000_000],
    storageBytesMax: [0, Number.MAX_SAFE_INTEGER],
    hintsPerTargetMax: [1, 100_000_000],
    tickIntervalMs: [1, 3_600_000],
    handoffBatchKeysMax: [1, 100_000],
    tombstoneGraceMs: [0, 30 * 86_400_000],
    siblingsSoftMax: [1, (c) => c.siblingsMax],
    siblingsMax: [1, 100_000],
    vvEntriesMax: [1, 100_000],
    antiEntropyIntervalMs: [1, 3_600_000],
    antiEntropyPartitionsMax: [1, 65_536],
    antiEntropyKeysMax: [1, 1_000_000],
    transferBatchKeysMax: [1, 100_000],
    batchBytesMax: [1024, 1024 * 1024 * 1024],
    changeSenderWaitMs: [0, 86_400_000],
    gossipIntervalMs: [10, 60_000],
    probeIntervalMs: [20, 60_000],
    probeTimeoutMs: [1, (c) => c.probeIntervalMs - 1],
    suspicionMult: [1, 100],
    transferBatchesMax: [1, 1024],
    membershipChangeTimeoutMs: [1, MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX],
    retryAttemptsMax: [1, 100],
    retryDelayBaseMs: [0, TIMEOUT_MS_MAX],
    retryDelayMaxMs: [(c) => c.retryDelayBaseMs, TIMEOUT_MS_MAX],
  });

/** Checks a full configuration; throws a ValidationError naming the first bad field. */
export function validateConfig(config: RingkvConfig): void {
  for (const [name, [min, max]] of Object.entries(CONFIG_RANGES) as [
    IntegerField,
    [Bound, Bound],
  ][]) {
    checkInteger(config, name, boundOf(min, config), boundOf(max, config));
    if (name === 'partitionCount') checkPowerOfTwo(config.partitionCount);
  }
  if (config.dataDir !== null && (typeof config.dataDir !== 'string' || config.dataDir === '')) {
    throw new ValidationError('dataDir must be a non-empty path or null');
  }
  if (!(STORAGE_ENGINES as readonly unknown[]).includes(config.storageEngine)) {
    throw new ValidationError(
      `storageEngine must be one of ${STORAGE_ENGINES.join(', ')}, got ${JSON.stringify(config.storageEngine)}`,
    );
  }
  if (!isLogLevel(config.logLevel)) {
    throw new ValidationError(
      `logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(config.logLevel)}`,
    );
  }
}

function boundOf(bound: Bound, config: RingkvConfig): number {
  return typeof bound === 'number' ? bound : bound(config);
}

function checkInteger(config: RingkvConfig, name: IntegerField, min: number, max: number): void {
  const value: unknown = config[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(
      `${name} must be an integer between ${min} and ${max}, got ${String(value)}`,
    );
  }
}

function checkPowerOfTwo(partitionCount: number): void {
  if ((partitionCount & (partitionCount - 1)) !== 0) {
    throw new ValidationError(`partitionCount must be a power of two, got ${partitionCount}`);
  }
}

/** The SWIM/Lifeguard settings the core's membership takes, every one from here. */
export function membershipConfig(config: RingkvConfig) {
  return {
    gossipIntervalMs: config.gossipIntervalMs,
    probeIntervalMs: config.probeIntervalMs,
    probeTimeoutMs: config.probeTimeoutMs,
    indirectChecks: INDIRECT_CHECKS,
    suspicionMult: config.suspicionMult,
    suspicionMaxTimeoutMult: SUSPICION_MAX_TIMEOUT_MULT,
  };
}

/**
 * How many worker threads the nodes share on a machine with `cores` cores: `nodeThreads`, or
 * when it is 0, one per node up to cores − 1 (at least 1). More node threads than spare cores
 * measured slower: the extra threads only add posts, clones and context switches.
 */
export function nodeThreadsFor(
  config: Pick<RingkvConfig, 'nodes' | 'nodeThreads'>,
  cores: number,
): number {
  if (config.nodeThreads > 0) return config.nodeThreads;
  return Math.min(config.nodes, Math.max(1, cores - 1));
}

/** The node-level bounds the protocol core takes (it cannot import this file itself). */
export function coreLimits(config: RingkvConfig) {
  return {
    inFlightMax: config.inFlightMax,
    storageBytesMax: config.storageBytesMax,
    readSpeculateMs: config.readSpeculateMs,
    hintsPerTargetMax: config.hintsPerTargetMax,
    tickIntervalMs: config.tickIntervalMs,
    handoffBatchKeysMax: config.handoffBatchKeysMax,
    tombstoneGraceMs: config.tombstoneGraceMs,
    siblingsMax: config.siblingsMax,
    vvEntriesMax: config.vvEntriesMax,
    antiEntropyIntervalMs: config.antiEntropyIntervalMs,
    antiEntropyPartitionsMax: config.antiEntropyPartitionsMax,
    antiEntropyKeysMax: config.antiEntropyKeysMax,
    transferBatchKeysMax: config.transferBatchKeysMax,
    batchBytesMax: config.batchBytesMax,
    changeSenderWaitMs: config.changeSenderWaitMs,
    swim: membershipConfig(config),
    transferBatchesMax: config.transferBatchesMax,
    expirySweepKeysMax: EXPIRY_SWEEP_KEYS_MAX,
  };
}

/**
 * The TCP transport between node processes (src/transport/tcp.ts). Separate from RingkvConfig
 * because only the process runtime has sockets; each field is an integer checked against
 * TRANSPORT_CONFIG_RANGES.
 */
export interface TransportConfig {
  /**
   * Largest frame (one batch of encoded messages) read or written, in bytes (64 KiB..1 GiB). A
   * longer length prefix closes the connection without allocating it; a single message larger
   * than this is dropped at send. Must hold a transfer or handoff batch: batchBytesMax plus
   * overhead (and the largest single record). @default 32 MiB
   */
  readonly frameBytesMax: number;
  /**
   * Encoded bytes queued per peer and lane (quorum, bulk) while the socket cannot take them;
   * past it new messages are dropped and counted (frameBytesMax..4 GiB). A node holds at most
   * 2 × peers × this when every peer stops reading. @default 64 MiB
   */
  readonly sendQueueBytesMax: number;
  /** Messages queued per peer and lane; past it new messages are dropped (1..10 M). @default 100000 */
  readonly sendQueueMessagesMax: number;
  /**
   * The dialer closes a connection whose connect, TLS handshake and hello answer take longer;
   * the acceptor gives the TLS handshake this long and then the hello this long again. Closed
   * connections are counted (100..60000 ms). @default 5000
   */
  readonly handshakeTimeoutMs: number;
  /** First reconnect delay; doubles per failed attempt, with full jitter (1..60000 ms). @default 100 */
  readonly reconnectDelayBaseMs: number;
  /** Longest reconnect delay (reconnectDelayBaseMs..600000 ms). @default 5000 */
  readonly reconnectDelayMaxMs: number;
  /**
   * Inbound connections one node accepts at once, handshaking or open: 2 per peer (quorum and
   * bulk lanes) plus reconnect overlap (2..100000). @default 4 × NODES_MAX
   */
  readonly inboundConnectionsMax: number;
}

export const DEFAULT_TRANSPORT_CONFIG: TransportConfig = Object.freeze({
  frameBytesMax: 32 * 1024 * 1024,
  sendQueueBytesMax: 64 * 1024 * 1024,
  sendQueueMessagesMax: 100_000,
  handshakeTimeoutMs: 5000,
  reconnectDelayBaseMs: 100,
  reconnectDelayMaxMs: 5000,
  inboundConnectionsMax: 4 * NODES_MAX,
});

/** The valid range of every TransportConfig field; a bound may read another field. */
export const TRANSPORT_CONFIG_RANGES: {
  readonly [K in keyof TransportConfig]: readonly [
    min: number | ((c: TransportConfig) => number),
    max: number | ((c: TransportConfig) => number),
  ];
} = Object.freeze({
  frameBytesMax: [64 * 1024, 1024 * 1024 * 1024],
  sendQueueBytesMax: [(c) => c.frameBytesMax, 4 * 1024 * 1024 * 1024],
  sendQueueMessagesMax: [1, 10_000_000],
  handshakeTimeoutMs: [100, 60_000],
  reconnectDelayBaseMs: [1, 60_000],
  reconnectDelayMaxMs: [(c) => c.reconnectDelayBaseMs, 600_000],
  inboundConnectionsMax: [2, 100_000],
});

/** Checks a transport configuration; throws a ValidationError naming the first bad field. */
export function validateTransportConfig(config: TransportConfig): void {
  for (const [name, [min, max]] of Object.entries(TRANSPORT_CONFIG_RANGES) as [
    keyof TransportConfig,
    (typeof TRANSPORT_CONFIG_RANGES)[keyof TransportConfig],
  ][]) {
    const low = typeof min === 'number' ? min : min(config);
    const high = typeof max === 'number' ? max : max(config);
    const value: unknown = config[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
      throw new ValidationError(
        `${name} must be an integer between ${low} and ${high}, got ${String(value)}`,
      );
    }
  }
}

/** Validity of the certificates `ringkv certs` makes, in days, unless --days says otherwise. */
export const CERT_DAYS_DEFAULT = 825;
/** Longest validity `ringkv certs --days` accepts (1..CERT_DAYS_MAX). */
export const CERT_DAYS_MAX = 36_500;
/** How long one `openssl` invocation of `ringkv certs` may run before it is killed, in ms. */
export const CERT_TOOL_TIMEOUT_MS = 30_000;

/**
 * `ringkv node` (one node as an OS process, src/runtime/process-node.ts). These are per-process
 * settings, not cluster ones: every value is an integer in its stated range.
 */
/** Cluster label both ends of a peer connection must agree on unless --cluster-name says otherwise. */
export const CLUSTER_NAME_DEFAULT = 'ringkv';
/** On SIGTERM/SIGINT, how long in-flight HTTP requests may run before their connections are cut, in ms (0..TIMEOUT_MS_MAX). */
export const NODE_DRAIN_MS_DEFAULT = 10_000;
/** After the drain, how long closing the transport and flushing storage may take before the process exits 1, in ms (1..TIMEOUT_MS_MAX). */
export const NODE_CLOSE_TIMEOUT_MS = 10_000;
/** One ask over the peer port (a joiner asking a member for the ring, or to be let in), dial to answer, either side, in ms (100..TIMEOUT_MS_MAX). */
export const NODE_ASK_TIMEOUT_MS = 10_000;
/** `ringkv node --join`: how long the join may take, from the first ask until this node owns its partitions, in ms (1000..MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX). */
export const NODE_JOIN_TIMEOUT_MS_DEFAULT = 300_000;
/** How often a node process checks whether its join committed or its leave finished, in ms (10..10000). */
export const NODE_MEMBERSHIP_POLL_MS = 100;
/** `--join`: the pause before asking again while the member is busy with another change, in ms (10..NODE_JOIN_TIMEOUT_MS_DEFAULT). */
export const NODE_JOIN_RETRY_MS = 500;
/**
 * At start-up a node dials every peer it knows (a greeting, so those that took it for down while
 * it was not listening learn at once that it runs) and waits at most this long for the
 * handshakes before it serves HTTP, in ms (0..10000). @default 2000
 */
export const NODE_GREETING_WAIT_MS = 2_000;
/** A node that left waits at most this long for its final `left` record to go out before it stops, in ms (0..10000). */
export const NODE_LEFT_GOSSIP_WAIT_MS_MAX = 1_000;

/** Node URLs one `connect()` accepts (1..NODES_MAX): a client of a bigger cluster names a few. */
export const REMOTE_NODES_MAX = NODES_MAX;
/** Open keep-alive sockets `connect()` keeps per node at most (requests past it queue). */
export const REMOTE_SOCKETS_PER_NODE_MAX = 64;
/**
 * An idle keep-alive socket of the remote client is closed after this long (ms): below Node's
 * server keepAliveTimeout (5 s), so the client drops a socket before the server does and never
 * writes a request into one the server is closing (which would make a write's outcome unknown).
 */
export const REMOTE_SOCKET_IDLE_MS = 4_000;
/** How long `connect()` waits for a node's `/health` and `/status` (each, in ms, 1..TIMEOUT_MS_MAX). */
export const REMOTE_CONNECT_TIMEOUT_MS_DEFAULT = 2_000;
/**
 * After a connection to a node fails, `connect()`'s client sends it nothing for this long (ms)
 * unless every other node failed too.
 */
export const REMOTE_NODE_COOLDOWN_MS = 1_000;
/** Largest reply body the remote client reads (a get's siblings, base64): 4/3 × 2 × the value limit. */
export const REMOTE_REPLY_SIZE_MAX_BYTES = Math.ceil((VALUE_SIZE_LIMIT_BYTES * 8) / 3);

// --- Staleness advisor and key explanations (issue 15) ---------------------------------------

/** Nodes' WARS latency histograms halve every count this often (ms; 1 000 .. 3 600 000). */
export const LATENCY_HALF_LIFE_MS = 30_000;
/** Monte-Carlo trials per advisor answer, shared by every (R, W) (1 000 .. 1 000 000). */
export const ADVISOR_TRIALS = 20_000;
/** How long one advisor answer is served from cache (ms; 0 .. 60 000). */
export const ADVISOR_CACHE_MS = 5_000;
/** Fewest samples per latency class (whole cluster) before the advisor answers (1 .. 10 000). */
export const ADVISOR_SAMPLES_MIN = 20;
/** Seed of the advisor's Monte-Carlo: equal histograms give equal answers (any uint32). */
export const ADVISOR_SEED = 1;
/** Deadline of one key explanation, every node's answer included (ms; 1 .. 60 000). */
export const EXPLAIN_TIMEOUT_MS = 2_000;

// Dashboard (server/monitor/): how much the server keeps for pages opened later.
/** Time between two history samples, in ms (250..60000). @default 1000 */
export const DASHBOARD_HISTORY_SAMPLE_MS = 1_000;
/** How far back the dashboard's charts reach, in ms (10000..3600000). @default 300000 (5 min) */
export const DASHBOARD_HISTORY_SPAN_MS = 300_000;
/** Valid ranges of the two above, checked by the HTTP server. */
export const DASHBOARD_HISTORY_SAMPLE_MS_RANGE = [250, 60_000] as const;
export const DASHBOARD_HISTORY_SPAN_MS_RANGE = [10_000, 3_600_000] as const;
/** Admin actions the activity log keeps (1..10000); older ones drop out. @default 200 */
export const ACTIVITY_ENTRIES_MAX = 200;
/** Of those, the newest ones each event-stream tick carries to the pages (1..200). @default 50 */
export const ACTIVITY_ENTRIES_PER_EVENT = 50;

/**
 * Admission control of client requests (src/server/admission.ts), one controller per front
 * process, shared by its HTTP and RESP servers. The concurrency limit is not a constant: it
 * starts at `limitInitial` and follows measured capacity by a latency gradient (Netflix's
 * Gradient2), applied to the requests at the cluster. Every window of max(windowSamplesMin,
 * limit) completions: gradient = clamp(latencyTolerance × baseline / windowMean, 0.5, 1), where
 * the window mean is the cluster's service time as the runtime measures it (send to answer,
 * without the front's own wait; estimated as hold time less the front's event-loop delay where
 * the runtime cannot tell) and baseline is the unloaded latency (an average moving by
 * 1/baselineWindows of the gap per window, upwards only from windows with nobody waiting);
 * target = 2 × limit while gradient = 1, else
 * limit × gradient + √limit (limit × backoffRatio when a coordinator refused or a request timed
 * out in the window);
 * limit ← limit + smoothing × (target − limit), never growing when nobody waited. By Little's law
 * it settles near throughput × latencyTolerance × baseline — what the cluster serves at that
 * latency. The front admits that limit times how much longer its permits are held than the
 * cluster serves (answers waiting for a busy front).
 * A request past the limit waits in a FIFO of at most `queueMax` for at most `queueWaitMsMax`,
 * then gets a 503 with `Retry-After: retryAfterSeconds`.
 */
export interface AdmissionConfig {
  /** Concurrent requests admitted at start, before anything is measured (limitMin..limitMax). @default 256 */
  readonly limitInitial: number;
  /**
   * The limit never goes below this (1..limitMax): what a modest client (a pool of connections,
   * a benchmark at 64) asks for is never refused however latency moves; only floods are shed.
   * @default 128
   */
  readonly limitMin: number;
  /** The limit never goes above this (limitMin..1000000). @default 4096 */
  readonly limitMax: number;
  /** Requests waiting for a slot at most; past it a request is refused at once (0..100000). @default 256 */
  readonly queueMax: number;
  /** Longest wait for a slot before a 503, in ms (0..10000); bounds the refusal latency. @default 20 */
  readonly queueWaitMsMax: number;
  /** Window mean latency over baseline past which the limit shrinks (1.05..100). @default 1.5 */
  readonly latencyTolerance: number;
  /** The limit's factor on a decrease (0.5..0.99). @default 0.9 */
  readonly backoffRatio: number;
  /** Completions per measuring window at least (1..100000). @default 16 */
  readonly windowSamplesMin: number;
  /** The baseline moves by 1/this of the gap to a window's mean (1..100000). @default 20 */
  readonly baselineWindows: number;
  /** Share of each window's target the limit moves by (0.01..1). @default 0.2 */
  readonly smoothing: number;
  /** The `Retry-After` of a refusal, in seconds (HTTP allows whole seconds only; 1..3600). @default 1 */
  readonly retryAfterSeconds: number;
}

/**
 * Least window latency (ms) the admission controller reasons with, after the front's own
 * event-loop delay is taken out: below it a window says nothing about the cluster and holds the
 * limit. Not a config field (a property of the estimator, not a policy).
 */
export const ADMISSION_LATENCY_FLOOR_MS = 1;

/**
 * How long (ms) no request may have waited or been refused before a window's measured service
 * time can raise the admission baseline: replies come in batches, so a window can fill within
 * one event-loop turn of a flood with nobody refused in it, and one such window learned the
 * flood's latency as the unloaded one. Not a config field (a property of the estimator).
 */
export const ADMISSION_QUIET_MS = 1_000;

export const DEFAULT_ADMISSION_CONFIG: AdmissionConfig = Object.freeze({
  limitInitial: 256,
  limitMin: 128,
  limitMax: 4096,
  queueMax: 256,
  queueWaitMsMax: 20,
  latencyTolerance: 1.5,
  backoffRatio: 0.9,
  windowSamplesMin: 16,
  baselineWindows: 20,
  smoothing: 0.2,
  retryAfterSeconds: 1,
});

/** The valid range of every AdmissionConfig field; ratios may be fractional, the rest integers. */
export const ADMISSION_CONFIG_RANGES: {
  readonly [K in keyof AdmissionConfig]: readonly [
    min: number | ((c: AdmissionConfig) => number),
    max: number | ((c: AdmissionConfig) => number),
  ];
} = Object.freeze({
  limitMin: [1, (c) => c.limitMax],
  limitMax: [(c) => c.limitMin, 1_000_000],
  limitInitial: [(c) => c.limitMin, (c) => c.limitMax],
  queueMax: [0, 100_000],
  queueWaitMsMax: [0, 10_000],
  latencyTolerance: [1.05, 100],
  backoffRatio: [0.5, 0.99],
  windowSamplesMin: [1, 100_000],
  baselineWindows: [1, 100_000],
  smoothing: [0.01, 1],
  retryAfterSeconds: [1, 3600],
});

/** Checks an admission configuration; throws a ValidationError naming the first bad field. */
export function validateAdmissionConfig(config: AdmissionConfig): void {
  const fractional = new Set<keyof AdmissionConfig>([
    'latencyTolerance',
    'backoffRatio',
    'smoothing',
  ]);
  for (const [name, [min, max]] of Object.entries(ADMISSION_CONFIG_RANGES) as [
    keyof AdmissionConfig,
    (typeof ADMISSION_CONFIG_RANGES)[keyof AdmissionConfig],
  ][]) {
    const low = typeof min === 'number' ? min : min(config);
    const high = typeof max === 'number' ? max : max(config);
    const value: unknown = config[name];
    const whole = fractional.has(name) || Number.isInteger(value);
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      !whole ||
      value < low ||
      value > high
    ) {
      const kind = fractional.has(name) ? 'a number' : 'an integer';
      throw new ValidationError(
        `${name} must be ${kind} between ${low} and ${high}, got ${String(value)}`,
      );
    }
  }
}

/**
 * Node's HTTP server limits for the client API (server/http.ts). Slow or silent clients must not
 * hold a connection, a parser and its buffers for long: a request's headers must arrive within
 * HTTP_HEADERS_TIMEOUT_MS (1..TIMEOUT_MS_MAX; Node's default is 60 s), and open connections are
 * capped at HTTP_CONNECTIONS_MAX (1..1000000; Node's default is unlimited): past it a new
 * connection is answered with a 503 and closed, so memory stays bounded under a connection flood
 * (each idle keep-alive connection costs a socket and parser, a few tens of KiB).
 */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000;
/**
 * Connections the kernel holds for the HTTP server before it accepts them (1..65535; the kernel
 * caps it at net.core.somaxconn, 4096 on current Linux). Node's default, 511, overflows when
 * thousands of clients connect at once: the dropped handshakes are retried only after 1 s, 3 s…,
 * and their requests time out instead of being answered or refused.
 */
export const HTTP_LISTEN_BACKLOG = 4096;
export const HTTP_CONNECTIONS_MAX = 8_192;
/**
 * `ringkv up --processes` (src/runtime/process-cluster.ts): each node a `ringkv node` child
 * process on loopback. Every value is an integer in its stated range.
 */
/**
 * Ports `ringkv up --processes` assigns to its nodes: picked at random in this range, below the
 * kernel's ephemeral ports so no outgoing connection can take one before the node binds it
 * (runtime/free-ports.ts).
 */
export const FREE_PORT_RANGE = [20_000, 32_000] as const;
/** Random ports tried (each checked by listening on it) before giving up (1..100000). @default 1000 */
export const FREE_PORT_TRIES_MAX = 1_000;
/**
 * Starts with freshly picked ports when a node exits because one of its ports was taken in
 * between (another program bound it after the check) (1..10). @default 3
 */
export const PROCESS_PORT_ATTEMPTS_MAX = 3;
/** How long a node process may take from spawn to serving HTTP before it is killed, in ms (1..TIMEOUT_MS_MAX). */
export const PROCESS_START_TIMEOUT_MS = 30_000;
/** On close, how long a node process may drain after SIGTERM before it is SIGKILLed, in ms (1..TIMEOUT_MS_MAX). */
export const PROCESS_STOP_TIMEOUT_MS = 15_000;
/** How long a SIGKILLed node process may take to be reaped, in ms (1..TIMEOUT_MS_MAX). */
export const PROCESS_KILL_TIMEOUT_MS = 5_000;
/** How long a control call to a node process (faults, stats, inspect) may take, in ms (1..TIMEOUT_MS_MAX). */
export const PROCESS_CONTROL_TIMEOUT_MS = 2_000;
/** How long the front may take to open its request lane to a node process (connect, 101), in ms (1..TIMEOUT_MS_MAX). */
export const PROCESS_LANE_CONNECT_TIMEOUT_MS = 2_000;
/** Requests one lane carries at once, each side (past it a request is answered `down`), 1..1000000. */
export const PROCESS_LANE_PENDING_MAX = 16_384;
/** Largest frame on a lane, either way: what one control reply could carry (a get's siblings). */
export const PROCESS_LANE_FRAME_BYTES_MAX = REMOTE_REPLY_SIZE_MAX_BYTES;
/** Banner bytes read from a starting node process's stdout at most before it counts as broken (1..1 MiB). */
export const PROCESS_BANNER_BYTES_MAX = 64 * 1024;

/**
 * Worker threads of the pools that run independent CPU-bound jobs (simulator seeds, core
 * staleness chunks), 1..POOL_THREADS_MAX; 1 runs them in the calling thread. Default: the
 * machine's available parallelism (util/task-pool.ts).
 */
export const POOL_THREADS_MAX = 256;

/** Bounds of the Redis-protocol (RESP) front end (src/server/resp/); ranges in RESP_CONFIG_RANGES. */
export interface RespConfig {
  /** Connections served at once; one more is answered `-ERR max number of clients reached` and closed (1..100000). @default 10000 */
  readonly clientsMax: number;
  /**
   * Replies written to a connection that the socket has not flushed yet; past it the client is
   * treated as one that does not read, cut off and counted (1..1000000). @default 100000
   * (RESP_PENDING_REPLY_BYTES_MAX bounds the same backlog in bytes.)
   */
  readonly pendingRepliesMax: number;
  /** Commands parsed and waiting to run per connection; reading pauses at this many (1..100000). @default 1024 */
  readonly queuedCommandsMax: number;
  /** A connection with no request for this long is closed (1000..86400000 ms). @default 300000 */
  readonly idleTimeoutMs: number;
  /** Arguments in one command, its name included; more closes the connection (1..1048576). @default 65536 */
  readonly argsMax: number;
  /**
   * Longest bulk string the parser accepts at all; a longer length prefix closes the connection
   * without reading it (Redis's proto-max-bulk-len). Bulks over the value limit but under this
   * are skipped unbuffered and the command refused (1 KiB..4 GiB). @default 512 MiB
   */
  readonly bulkBytesMax: number;
  /** Bytes of arguments one command may hold in memory; past it the command is refused (1 KiB..1 GiB). @default 128 MiB */
  readonly commandBytesMax: number;
}

export const DEFAULT_RESP_CONFIG: RespConfig = Object.freeze({
  clientsMax: 10_000,
  pendingRepliesMax: 100_000,
  queuedCommandsMax: 1024,
  idleTimeoutMs: 300_000,
  argsMax: 65_536,
  bulkBytesMax: 512 * 1024 * 1024,
  commandBytesMax: 128 * 1024 * 1024,
});

export const RESP_CONFIG_RANGES: {
  readonly [K in keyof RespConfig]: readonly [min: number, max: number];
} = Object.freeze({
  clientsMax: [1, 100_000],
  pendingRepliesMax: [1, 1_000_000],
  queuedCommandsMax: [1, 100_000],
  idleTimeoutMs: [1000, 86_400_000],
  argsMax: [1, 1_048_576],
  bulkBytesMax: [1024, 4 * 1024 * 1024 * 1024],
  commandBytesMax: [1024, 1024 * 1024 * 1024],
});

/** Checks a RESP configuration; throws a ValidationError naming the first bad field. */
export function validateRespConfig(config: RespConfig): void {
  for (const name of Object.keys(RESP_CONFIG_RANGES) as (keyof RespConfig)[]) {
    const [low, high] = RESP_CONFIG_RANGES[name];
    const value: unknown = config[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
      throw new ValidationError(
        `resp.${name} must be an integer between ${low} and ${high}, got ${String(value)}`,
      );
    }
  }
}

/**
 * Reply bytes a RESP connection may leave unflushed before it counts as a client that does not
 * read and is cut off, whatever pendingRepliesMax says (a count alone let a pipeline of GETs of
 * 1 MiB values buffer ~100 GB). Redis's pubsub output class cuts at 32 MiB. @default 64 MiB
 */
export const RESP_PENDING_REPLY_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Key operations one multi-key RESP command (MGET, MSET, DEL, EXISTS) runs at once (1..256).
 * Each takes an admission permit: launched all together, a command naming more keys than the
 * limit plus its queue was refused OVERLOAD on an idle cluster, and one command could take every
 * slot of the process. @default 16
 */
export const RESP_KEYS_IN_FLIGHT_MAX = 16;
