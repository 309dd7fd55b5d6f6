/**
 * Every tunable of ringkv with its default. Runtimes, the CLI and the embedded API start from
 * `DEFAULT_CONFIG` and override fields; nothing else in the code base holds a default.
 */
export interface RingkvConfig {
  /** Number of storage nodes (worker threads) the local cluster starts with. @default 5 */
  readonly nodes: number;
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
   * Extra time the client waits past `requestTimeoutMs` for the coordinator's own answer before
   * giving up with a TimeoutError (covers a dead or stalled coordinator). @default 1000
   */
  readonly clientTimeoutSlackMs: number;
  /** Largest value accepted, in bytes; larger puts fail with a ValidationError (HTTP 413). @default 1 MiB */
  readonly valueSizeMaxBytes: number;
  /** Longest key accepted, in UTF-8 bytes. @default 1024 */
  readonly keySizeMaxBytes: number;
  /**
   * Directory for durable node data (one lmdb environment per node below it). `null` keeps data
   * in memory, lost when a node stops. @default null
   */
  readonly dataDir: string | null;
}

export const DEFAULT_CONFIG: RingkvConfig = Object.freeze({
  nodes: 5,
  n: 3,
  r: 2,
  w: 2,
  partitionCount: 1024,
  requestTimeoutMs: 2000,
  clientTimeoutSlackMs: 1000,
  valueSizeMaxBytes: 1024 * 1024,
  keySizeMaxBytes: 1024,
  dataDir: null,
});
