/**
 * Merkle-tree anti-entropy (Dynamo §4.7, Riak's AAE): replicas of a partition find and repair
 * their differences in the background, at a cost that grows with the difference, not the data.
 *
 * - `MerkleIndex` keeps one MerkleTree (merkle.ts) per partition this node replicates, updated
 *   on every local data write (built once from storage at start, never rebuilt on a schedule;
 *   a ring change keeps the trees of the partitions still replicated and fills the new ones).
 * - `AntiEntropy` runs one exchange at a time. Every interval it picks the next live peer that
 *   shares partitions and sends the roots of all shared partitions in one message; the peer
 *   names the partitions whose roots differ. For up to `partitionsMax` of them the initiator
 *   descends level by level, asking only for the children of differing nodes, down to the
 *   buckets; the differing keys' records then travel both ways (push, and pull in the reply) and
 *   are merged with `sync` — tombstones included, so anti-entropy never resurrects a delete.
 * - Bounds: one exchange in flight, at most `partitionsMax` partitions and `keysMax` keys per
 *   exchange (the rest waits for the next one), and a deadline after which it is abandoned.
 *
 * The responder side is stateless: it answers from its own trees and merges what it receives.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import { diffBucket, type Entry, MerkleTree, versionHash } from './merkle.js';
import type { Ring } from './ring.js';
import type { TimerOwner, Timers } from './timers.js';
import type { KeyRecord, NodeId } from './types.js';
import { recordBytes } from './version.js';

/** Merkle tree shape per partition: 16^2 = 256 buckets (1024 partitions x 256 ~ 262k buckets). */
export const MERKLE_DEPTH = 2;
export const MERKLE_FANOUT = 16;

export interface AntiEntropyLimits {
  /** Time between exchanges started by this node. */
  readonly antiEntropyIntervalMs: number;
  /** Differing partitions one exchange repairs at most. */
  readonly antiEntropyPartitionsMax: number;
  /** Differing keys one exchange repairs at most. */
  readonly antiEntropyKeysMax: number;
  /** Value bytes one push (or its reply) carries at most; at least one record goes. */
  readonly batchBytesMax: number;
}

export class MerkleIndex {
  /**
   * By partition; undefined for partitions this node does not replicate. An array, not a Map:
   * every replica write looks its tree up here.
   */
  private readonly trees: (MerkleTree | undefined)[];

  /**
   * Empty trees for the partitions `self` replicates in `ring`, but with `previous` (the index
   * of the ring before a change): its trees of partitions still replicated are taken over as
   * they are. They hold every local key of their partition already (each local write updates
   * its tree), so a ring change only has to fill the trees of partitions new to this node.
   */
  constructor(
    private readonly ring: Ring,
    self: NodeId,
    private readonly n: number,
    previous?: MerkleIndex,
  ) {
    assert(
      previous === undefined || previous.ring.partitionCount === ring.partitionCount,
      'a ring change keeps the partition count',
    );
    this.trees = new Array<MerkleTree | undefined>(ring.partitionCount).fill(undefined);
    for (let p = 0; p < ring.partitionCount; p++) {
      if (!ring.preferenceListForPartition(p, n).includes(self)) continue;
      this.trees[p] =
        previous?.trees[p] ?? new MerkleTree({ depth: MERKLE_DEPTH, fanout: MERKLE_FANOUT });
    }
  }

  /**
   * Records a key's change from `before` to `after` (null: the key is gone). `before` is the
   * record the key's tree holds, which is the node's local view of the key before this write
   * (undefined: none): every local data write passes through here, and a new tree is filled
   * from the local view (rebalance.ts scanLocalData). Keys of foreign partitions are ignored.
   */
  update(key: string, before: KeyRecord | undefined, after: KeyRecord | null): void {
    this.updateIn(this.ring.partitionOf(key), key, before, after);
  }

  /** `update` for a key whose partition the caller knows. */
  updateIn(
    partition: number,
    key: string,
    before: KeyRecord | undefined,
    after: KeyRecord | null,
  ): void {
    const tree = this.trees[partition];
    if (tree === undefined) return;
    tree.apply(key, treeHashOf(before), treeHashOf(after));
  }

  tree(partition: number): MerkleTree | undefined {
    return Number.isInteger(partition) ? this.trees[partition] : undefined;
  }

  /** The keys this node holds of a partition it replicates, sorted (empty otherwise). */
  keysOf(partition: number): readonly string[] {
    return this.tree(partition)?.keys() ?? [];
  }

  /** Partitions both this node and `peer` replicate, ascending. */
  sharedWith(peer: NodeId): number[] {
    const shared: number[] = [];
    this.trees.forEach((tree, p) => {
      if (tree !== undefined && this.ring.preferenceListForPartition(p, this.n).includes(peer)) {
        shared.push(p);
      }
    });
    return shared; // ascending: the index order
  }
}

/** The hash a tree holds for a record: its version hash; null for none or an empty record. */
function treeHashOf(record: KeyRecord | null | undefined): number | null {
  return record === null || record === undefined || record.siblings.length === 0
    ? null
    : versionHash(record);
}

/** What anti-entropy needs from its node. */
export interface AntiEntropyHost {
  readonly self: NodeId;
  readonly ring: Ring;
  readonly timers: Timers;
  allocateId(): number;
  isDown(peer: NodeId): boolean;
  /** The node's monotonic clock, to remember when partitions were compared; absent: not kept. */
  readonly now?: () => number;
  /** The local record of a key (pending writes included), as of now (expiry applied). */
  read(key: string): KeyRecord | undefined;
  /** The local record of a key as written (pending writes included): what the trees hold. */
  stored(key: string): KeyRecord | undefined;
  /** Merges a peer's record into the local one; returns whether anything changed. */
  merge(key: string, record: KeyRecord, out: Effects): boolean;
}

interface Exchange {
  readonly xid: number;
  readonly peer: NodeId;
  readonly timerId: number;
  readonly queue: number[];
  partition: number | null;
  keysLeft: number;
  /** Differing keys found in the current partition, to push and pull. */
  readonly keys: string[];
  /** The partitions whose roots went out, until the roots reply says which differ. */
  readonly offered: readonly number[];
}

/** When this node last compared a partition with a peer, for key explanations (explain.ts). */
export interface PartitionComparison {
  readonly peer: NodeId;
  /** On the node's monotonic clock (NodeCoreOptions.now). */
  readonly atMs: number;
  /** The roots differed (a repair of the partition followed, as far as the limits allowed). */
  readonly differed: boolean;
}

/** Peers whose last comparison is remembered (more than any cluster has nodes). */
const COMPARED_PEERS_MAX = 1024;

/** Kept as the exchange's own arrays: only an explanation (rare) searches them. */
interface Comparison {
  readonly atMs: number;
  readonly partitions: readonly number[];
  readonly differing: readonly number[];
}

export class AntiEntropy implements TimerOwner {
  private exchange: Exchange | null = null;
  private peerCursor = 0;
  /** The last root comparison with each peer (either side started it); one entry per peer. */
  private readonly compared = new Map<NodeId, Comparison>();
  readonly stats = {
    aeExchanges: 0,
    aeExchangesInSync: 0,
    aeExchangesAbandoned: 0,
    aeKeysRepaired: 0,
    aePartitionsRepaired: 0,
  };

  constructor(
    private readonly host: AntiEntropyHost,
    private currentIndex: MerkleIndex,
    private readonly limits: AntiEntropyLimits,
  ) {
    assert(limits.antiEntropyPartitionsMax >= 1, 'an exchange repairs at least one partition');
    assert(limits.antiEntropyKeysMax >= 1, 'an exchange repairs at least one key');
  }

  get index(): MerkleIndex {
    return this.currentIndex;
  }

  /** The ring changed: use trees of the partitions replicated now; a running exchange ends. */
  replaceIndex(index: MerkleIndex): void {
    this.currentIndex = index;
    this.exchange = null;
  }

  /** Every interval: start an exchange with the next live peer that shares partitions. */
  onTick(out: Effects): void {
    if (this.exchange !== null) return;
    const peer = this.nextPeer();
    if (peer === null) return;
    const partitions = this.index.sharedWith(peer);
    const roots = partitions.map((p) => this.index.tree(p)!.root());
    const xid = this.host.allocateId();
    const timerId = this.host.allocateId();
    const keysLeft = this.limits.antiEntropyKeysMax;
    const offered = partitions;
    this.exchange = { xid, peer, timerId, queue: [], partition: null, keysLeft, keys: [], offered };
    this.stats.aeExchanges++;
    this.host.timers.arm(timerId, this, this.limits.antiEntropyIntervalMs * 5, out);
    out.send(peer, { type: 'ae-roots', xid, partitions, roots });
  }

  /** Abandons an exchange whose deadline passed (a timer of an exchange already over: nothing). */
  onTimer(timerId: number): void {
    if (this.exchange?.timerId !== timerId) return;
    this.exchange = null;
    this.stats.aeExchangesAbandoned++;
  }

  // --- responder (stateless) ---------------------------------------------------------------

  onRoots(
    from: NodeId,
    xid: number,
    partitions: readonly number[],
    roots: readonly number[],
    out: Effects,
  ) {
    // A peer sends at most one root per partition; a longer list is cut, never iterated whole.
    const count = Math.min(partitions.length, roots.length, this.host.ring.partitionCount);
    const differing = partitions.slice(0, count).filter((p, i) => {
      const tree = this.index.tree(p);
      return tree !== undefined && tree.root() !== roots[i];
    });
    this.remember(from, partitions.slice(0, count), differing);
    out.send(from, { type: 'ae-roots-reply', xid, differing });
  }

  onDescend(
    from: NodeId,
    xid: number,
    partition: number,
    paths: ReadonlyArray<readonly number[]>,
    out: Effects,
  ) {
    const tree = this.index.tree(partition);
    const valid = paths.filter(isValidPath).slice(0, MERKLE_FANOUT ** MERKLE_DEPTH);
    const leaves = valid.filter((path) => path.length === MERKLE_DEPTH);
    const buckets = tree === undefined ? [] : tree.buckets(leaves, this.localHash);
    let leaf = 0;
    const nodes = valid.map((path) => {
      if (tree === undefined) return { path, bucket: [] };
      if (path.length < MERKLE_DEPTH) return { path, hashes: tree.childHashes(path) };
      return { path, bucket: buckets[leaf++]! };
    });
    out.send(from, { type: 'ae-descend-reply', xid, partition, nodes });
  }

  /** The version hash a tree holds for one of its keys: that of the local record. */
  private readonly localHash = (key: string): number => {
    const hash = treeHashOf(this.host.stored(key));
    assert(hash !== null, 'a key of a Merkle tree has a local record');
    return hash;
  };

  onPush(
    from: NodeId,
    xid: number,
    records: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>,
    want: readonly string[],
    out: Effects,
  ) {
    this.mergeAll(records, out);
    const mine = this.recordsOf(want.slice(0, this.limits.antiEntropyKeysMax));
    out.send(from, { type: 'ae-push-reply', xid, records: mine });
  }

  // --- initiator ---------------------------------------------------------------------------

  onRootsReply(from: NodeId, xid: number, differing: readonly number[], out: Effects): void {
    const exchange = this.current(from, xid);
    if (exchange === null) return;
    this.remember(from, exchange.offered, differing);
    if (differing.length === 0) {
      this.stats.aeExchangesInSync++;
      return this.finish(out);
    }
    exchange.queue.push(...differing.slice(0, this.limits.antiEntropyPartitionsMax));
    this.nextPartition(exchange, out);
  }

  onDescendReply(
    from: NodeId,
    xid: number,
    partition: number,
    nodes: ReadonlyArray<{
      readonly path: readonly number[];
      readonly hashes?: readonly number[];
      readonly bucket?: ReadonlyArray<Entry>;
    }>,
    out: Effects,
  ): void {
    const exchange = this.current(from, xid);
    if (exchange === null || exchange.partition !== partition) return;
    const tree = this.index.tree(partition);
    if (tree === undefined) return this.nextPartition(exchange, out);
    const next: number[][] = [];
    const remoteBuckets: { path: readonly number[]; remote: ReadonlyArray<Entry> }[] = [];
    for (const node of nodes) {
      if (!isValidPath(node.path)) continue; // a peer's malformed answer is skipped, never thrown
      if (node.hashes !== undefined && node.path.length < MERKLE_DEPTH) {
        if (node.hashes.length === MERKLE_FANOUT)
          next.push(...differingChildren(tree, node.path, node.hashes));
      } else if (node.bucket !== undefined && node.path.length === MERKLE_DEPTH) {
        const remote = sortedUnique(node.bucket);
        if (remote !== null) remoteBuckets.push({ path: node.path, remote });
      }
    }
    const local = tree.buckets(
      remoteBuckets.map(({ path }) => path),
      this.localHash,
    );
    remoteBuckets.forEach(({ remote }, i) => {
      this.collectKeys(exchange, diffBucket(local[i]!, remote));
    });
    if (next.length > 0 && exchange.keysLeft > 0) {
      return out.send(from, { type: 'ae-descend', xid, partition, paths: next });
    }
    this.push(exchange, out);
  }

  onPushReply(
    from: NodeId,
    xid: number,
    records: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>,
    out: Effects,
  ): void {
    const exchange = this.current(from, xid);
    if (exchange === null) return;
    this.mergeAll(records, out);
    this.stats.aePartitionsRepaired++;
    this.nextPartition(exchange, out);
  }

  private collectKeys(exchange: Exchange, keys: readonly string[]): void {
    for (const key of keys) {
      if (exchange.keysLeft === 0) return;
      exchange.keys.push(key);
      exchange.keysLeft--;
    }
  }

  private push(exchange: Exchange, out: Effects): void {
    if (exchange.keys.length === 0) return this.nextPartition(exchange, out);
    const records = this.recordsOf(exchange.keys);
    const want = exchange.keys.splice(0);
    out.send(exchange.peer, { type: 'ae-push', xid: exchange.xid, records, want });
  }

  /**
   * The local records of `keys`, up to batchBytesMax of values (at least one): what does not
   * fit still differs, and a later exchange finds and repairs it. Bounded so a push of large
   * values never exceeds what a transport frame carries.
   */
  private recordsOf(keys: readonly string[]): Array<{ key: string; record: KeyRecord }> {
    const records: Array<{ key: string; record: KeyRecord }> = [];
    let bytes = 0;
    for (const key of keys) {
      const record = this.host.read(key);
      if (record === undefined) continue;
      const size = key.length + recordBytes(record);
      if (records.length > 0 && bytes + size > this.limits.batchBytesMax) break;
      records.push({ key, record });
      bytes += size;
    }
    return records;
  }

  private nextPartition(exchange: Exchange, out: Effects): void {
    const partition = exchange.keysLeft > 0 ? exchange.queue.shift() : undefined;
    if (partition === undefined) return this.finish(out);
    exchange.partition = partition;
    out.send(exchange.peer, { type: 'ae-descend', xid: exchange.xid, partition, paths: [[]] });
  }

  private mergeAll(
    records: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>,
    out: Effects,
  ) {
    for (const { key, record } of records.slice(0, this.limits.antiEntropyKeysMax)) {
      if (this.host.merge(key, record, out)) this.stats.aeKeysRepaired++;
    }
  }

  /** Notes a root comparison with `peer` (only with a clock: NodeCoreOptions.now). */
  private remember(
    peer: NodeId,
    partitions: readonly number[],
    differing: readonly number[],
  ): void {
    const now = this.host.now;
    if (now === undefined) return;
    if (!this.compared.has(peer) && this.compared.size >= COMPARED_PEERS_MAX) {
      this.compared.clear(); // departed peers piled up; what matters is re-learned each interval
    }
    this.compared.set(peer, { atMs: now(), partitions, differing });
  }

  /** The last comparison of `partition` with each peer, as far as remembered. */
  comparisonsOf(partition: number): PartitionComparison[] {
    const found: PartitionComparison[] = [];
    for (const [peer, c] of this.compared) {
      if (!c.partitions.includes(partition)) continue;
      found.push({ peer, atMs: c.atMs, differed: c.differing.includes(partition) });
    }
    return found;
  }

  private current(from: NodeId, xid: number): Exchange | null {
    const exchange = this.exchange;
    return exchange !== null && exchange.peer === from && exchange.xid === xid ? exchange : null;
  }

  private finish(out: Effects): void {
    if (this.exchange === null) return;
    this.host.timers.cancel(this.exchange.timerId, out);
    this.exchange = null;
  }

  /** The next live peer, round robin over the ring's other nodes, that shares a partition. */
  private nextPeer(): NodeId | null {
    const peers = this.host.ring.nodes().filter((node) => node !== this.host.self);
    for (let tried = 0; tried < peers.length; tried++) {
      const peer = peers[(this.peerCursor + tried) % peers.length]!;
      if (this.host.isDown(peer) || this.index.sharedWith(peer).length === 0) continue;
      this.peerCursor = (this.peerCursor + tried + 1) % peers.length;
      return peer;
    }
    return null;
  }
}

/** A path into a partition's tree: at most MERKLE_DEPTH child indexes in 0..MERKLE_FANOUT-1. */
function isValidPath(path: readonly number[]): boolean {
  return (
    path.length <= MERKLE_DEPTH &&
    path.every((i) => Number.isInteger(i) && i >= 0 && i < MERKLE_FANOUT)
  );
}

/** The bucket when its keys are strictly ascending with 32-bit hashes (as a tree sends it), else null. */
function sortedUnique(bucket: ReadonlyArray<Entry>): ReadonlyArray<Entry> | null {
  for (let i = 0; i < bucket.length; i++) {
    const [key, hash] = bucket[i]!;
    if (!Number.isInteger(hash) || hash < 0 || hash > 0xffff_ffff) return null;
    if (i > 0 && !(bucket[i - 1]![0] < key)) return null;
  }
  return bucket;
}

/** Paths of the children whose hashes differ between the local tree and the peer's answer. */
function differingChildren(
  tree: MerkleTree,
  path: readonly number[],
  remote: readonly number[],
): number[][] {
  const local = tree.childHashes(path);
  const differing: number[][] = [];
  for (let i = 0; i < local.length; i++) {
    if (local[i] !== remote[i]) differing.push([...path, i]);
  }
  return differing;
}
