/**
 * Merkle trees for anti-entropy (Dynamo §4.7): one tree per ring partition, updated on every
 * write, so two replicas find the keys on which they differ at a cost that grows with the
 * difference, not with the data.
 *
 * Shape. The root is level 0, inner nodes fill levels 1..depth-1 and the `fanout^depth` leaf
 * buckets sit at level `depth`; every inner node has `fanout` children. A node is named by its
 * path of child indexes from the root. A key falls in the bucket `bucketPath(key)`, derived
 * from a re-mix of the key's ring hash (the ring hash alone would not do: its top bits are the
 * same for every key of one partition).
 *
 * Hash choice. Each key contributes one 32-bit entry hash, murmur3 (x86, 32-bit) of the 8 bytes
 * (ring hash of the key, version hash) with its own seed. The hash of every node — leaf, inner
 * or root — is the SUM of the entry hashes of the keys below it, modulo 2^32. A sum is
 * commutative and invertible, so an update subtracts the key's old entry hash and adds the new
 * one along the key's path: O(depth), eager, no dirty flags, no rebuild; the same set of
 * (key, version) pairs gives the same hashes whatever the order of updates, and removing every
 * key returns every node, the root included, to 0 (the empty tree's root).
 *
 * Collision risk. Entry hashes are well mixed, so when two buckets hold different entries their
 * sums differ except with probability about 2^-32; a parent equals its children's sum, so a
 * difference hides at an inner node only if the differences of its children cancel out, again
 * about 2^-32. Per-key version hashes (32-bit) collide with about the same probability. A
 * collision is not transient — the difference stays hidden until either side writes a key in
 * that bucket again — but at 2^-32 per divergent bucket, a cluster that repairs 10^6 divergent
 * buckets a day misses one about every 10 000 years. A sum is not a cryptographic commitment:
 * it guards against accidents between honest replicas, not against forged data.
 *
 * Pure and deterministic: no clock, no randomness, no I/O.
 */
import { assert } from './assert.js';
import { murmurFinalize as finalize, murmurMixBlock as mixWord } from './murmur3.js';
import { hashKey } from './ring.js';
import type { Dot, KeyRecord } from './types.js';
import { compareDots } from './version.js';

/** Default children per inner node. */
export const MERKLE_FANOUT_DEFAULT = 16;
/** Default levels below the root: 16^3 = 4096 leaf buckets per partition. */
export const MERKLE_DEPTH_DEFAULT = 3;
/**
 * Most leaf buckets a tree may have (2^20: a 4 MiB hash array, and bucket indexes computed as
 * `hash * leafCount / 2^32` stay exact below 2^53).
 */
export const MERKLE_LEAF_COUNT_MAX = 2 ** 20;

/** Seeds keep the three hashes below independent of each other and of the ring hash (seed 0). */
const BUCKET_SEED = 0x6b43a9b5;
const ENTRY_SEED = 0x2f6c1c1d;
const VERSION_SEED = 0x5bd1e995;
const HASH_SPACE_SIZE = 2 ** 32;

// ---------------------------------------------------------------------------------------------
// murmur3 x86 32-bit over 32-bit words (the same function as ring.ts's murmur3 over the words'
// little-endian bytes; re-stated here because ring.ts keeps its block mixer private).

function isUint32(value: number): boolean {
  return value === value >>> 0;
}

/** The hash that places a key: murmur3 of its ring hash's 4 bytes with BUCKET_SEED. */
function bucketHashOf(ringHash: number): number {
  return finalize(mixWord(BUCKET_SEED, ringHash), 4);
}

/** A key's contribution to its nodes' sums: murmur3 of (ring hash, version hash), ENTRY_SEED. */
function entryHashOf(ringHash: number, versionHash: number): number {
  return finalize(mixWord(mixWord(ENTRY_SEED, ringHash), versionHash), 8);
}

/** The leaf index (0..leafCount-1) of a bucket hash: its position scaled to the leaf count. */
function leafIndexOf(bucketHash: number, leafCount: number): number {
  const leaf = Math.floor((bucketHash * leafCount) / HASH_SPACE_SIZE);
  assert(leaf >= 0, 'a leaf index is not negative');
  assert(leaf < leafCount, 'a leaf index is below the leaf count');
  return leaf;
}

// ---------------------------------------------------------------------------------------------
// Public functions

function checkShape(depth: number, fanout: number): number {
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`merkle: depth must be an integer >= 1, got ${depth}`);
  }
  if (!Number.isInteger(fanout) || fanout < 2) {
    throw new RangeError(`merkle: fanout must be an integer >= 2, got ${fanout}`);
  }
  const leafCount = fanout ** depth;
  if (leafCount > MERKLE_LEAF_COUNT_MAX) {
    throw new RangeError(
      `merkle: fanout^depth = ${leafCount} leaf buckets exceeds ${MERKLE_LEAF_COUNT_MAX}`,
    );
  }
  return leafCount;
}

/** The path (child indexes from the root) of a leaf index, most significant digit first. */
function pathOfLeaf(leaf: number, depth: number, fanout: number): number[] {
  const path = new Array<number>(depth);
  let rest = leaf;
  for (let level = depth - 1; level >= 0; level--) {
    path[level] = rest % fanout;
    rest = Math.floor(rest / fanout);
  }
  assert(rest === 0, 'a leaf index has exactly depth digits');
  return path;
}

/**
 * Which bucket a key falls in, as a path of `depth` child indexes in 0..fanout-1. Derived from
 * murmur3 (seed BUCKET_SEED) of the key's ring hash: a bijective re-mix, so the keys of one
 * partition (whose ring hashes share their top bits) still spread evenly over the buckets.
 */
export function bucketPath(key: string, depth: number, fanout: number): number[] {
  const leafCount = checkShape(depth, fanout);
  return pathOfLeaf(leafIndexOf(bucketHashOf(hashKey(key)), leafCount), depth, fanout);
}

/** The dots of a record's siblings, sorted; asserts that no dot repeats. */
function sortedDots(record: KeyRecord): Dot[] {
  const dots = record.siblings.map((sibling) => sibling.dot);
  if (dots.length > 1) dots.sort(compareDots);
  for (let i = 1; i < dots.length; i++) {
    assert(compareDots(dots[i - 1]!, dots[i]!) !== 0, 'a record holds each dot once');
  }
  return dots;
}

/**
 * A stable 32-bit hash of a record's version set: murmur3 (seed VERSION_SEED) over its sorted
 * dots, each as (ring hash of the actor, counter low 32 bits, counter high bits). Values, pasts
 * and request ids are left out, and siblings are taken in dot order, so two replicas holding the
 * same writes hash equal. Tombstones are versions like any other and count; so does a value
 * that expired into a tombstone (its dot is hashed once more).
 */
export function versionHash(record: KeyRecord): number {
  const dots = sortedDots(record);
  let h = VERSION_SEED;
  for (const [actor, counter] of dots) {
    assert(Number.isSafeInteger(counter), 'a dot counter is a safe integer');
    assert(counter > 0, 'a dot counter is positive');
    h = mixWord(h, hashKey(actor));
    h = mixWord(h, counter >>> 0);
    h = mixWord(h, Math.floor(counter / HASH_SPACE_SIZE));
  }
  // A write with a deadline is live on one replica and a tombstone on another until both
  // expired it: the hash tells the two apart so anti-entropy carries the expiry over. Records
  // without deadlines hash exactly as before deadlines existed.
  let words = dots.length * 3;
  const expired = record.siblings.filter((s) => s.expiresAtMs !== undefined && s.value === null);
  if (expired.length > 1) expired.sort((x, y) => compareDots(x.dot, y.dot));
  for (const { dot } of expired) {
    h = mixWord(h, hashKey(dot[0]));
    h = mixWord(h, dot[1] >>> 0);
    words += 2;
  }
  return finalize(h, words * 4);
}

// ---------------------------------------------------------------------------------------------
// The tree

/**
 * One Merkle tree over one ring partition's keys (a contiguous hash range), updated
 * incrementally. It keeps the sums and which keys it holds, not each key's version hash: its
 * owner passes the hash it holds for a key to `apply` and `bucket` (MerkleIndex takes it from
 * the local record, which a write reads anyway). An overwrite then touches no per-key structure
 * at all: on a node with 60 000 keys, the per-key Maps the tree kept cost 17-26 % of a
 * replicated write's throughput, in cache misses (issue 13). KeyedMerkleTree below keeps the
 * hashes itself, for owners that have nowhere else to keep them.
 */
export class MerkleTree {
  readonly depth: number;
  readonly fanout: number;
  private readonly leafCount: number;
  /** Every node's hash, level by level: level l starts at levelStart[l] and has fanout^l nodes. */
  private readonly hashes: Uint32Array;
  private readonly levelStart: number[];
  /** The keys in the tree, each with its leaf index (a bucket listing then hashes no key). */
  private readonly members = new Map<string, number>();
  /** Every key, sorted, as `keys()` gave it last; null once a key was added or removed since. */
  private sortedKeys: readonly string[] | null = null;

  constructor(options: { depth?: number; fanout?: number } = {}) {
    this.depth = options.depth ?? MERKLE_DEPTH_DEFAULT;
    this.fanout = options.fanout ?? MERKLE_FANOUT_DEFAULT;
    this.leafCount = checkShape(this.depth, this.fanout);
    this.levelStart = [];
    let nodeCount = 0;
    for (let level = 0; level <= this.depth; level++) {
      this.levelStart.push(nodeCount);
      nodeCount += this.fanout ** level;
    }
    this.hashes = new Uint32Array(nodeCount);
  }

  /** Number of keys. */
  get size(): number {
    return this.members.size;
  }

  /** Digest of the whole tree: equal trees have equal roots; the empty tree's root is 0. */
  root(): number {
    return this.hashes[0]!;
  }

  /**
   * Moves `key` from version hash `previous` (null: the key is not in the tree) to `next`
   * (null: the key leaves it); hashes are unsigned 32-bit integers, as `versionHash` returns.
   * `previous` must be the hash this tree was last given for the key: the tree cannot check it
   * without the per-key lookup it exists to avoid, and a wrong one leaves the sums wrong until
   * the tree is rebuilt. O(depth): the key's entry hash moves out of and into the sums along
   * its path; the key set changes only when `previous` or `next` is null.
   */
  apply(key: string, previous: number | null, next: number | null): void {
    assert(previous === null || isUint32(previous), 'a version hash is an unsigned 32-bit integer');
    assert(next === null || isUint32(next), 'a version hash is an unsigned 32-bit integer');
    if (previous === next) return;
    const ringHash = hashKey(key);
    const leaf = leafIndexOf(bucketHashOf(ringHash), this.leafCount);
    let delta = 0;
    if (previous !== null) delta -= entryHashOf(ringHash, previous);
    if (next !== null) delta += entryHashOf(ringHash, next);
    this.addAlongPath(leaf, delta);
    if (previous === null) {
      const before = this.members.size;
      this.members.set(key, leaf);
      assert(this.members.size === before + 1, 'a key added to a tree was not in it');
      this.sortedKeys = null;
    } else if (next === null) {
      assert(this.members.delete(key), 'a key removed from a tree was in it');
      this.sortedKeys = null;
    }
  }

  /** Hashes of the children of the inner node at `path` (length < depth); fanout of them. */
  childHashes(path: readonly number[]): number[] {
    assert(path.length < this.depth, 'childHashes: the path names an inner node');
    const first = this.levelStart[path.length + 1]! + this.indexInLevel(path) * this.fanout;
    const children = Array.from(this.hashes.subarray(first, first + this.fanout));
    assert(children.length === this.fanout, 'an inner node has fanout children');
    return children;
  }

  /**
   * Every key in the tree, sorted (UTF-16 code unit order, as `<` compares). Kept until a key is
   * added or removed: a move stream asks for it once per batch.
   */
  keys(): readonly string[] {
    // The default sort compares strings by UTF-16 code units, as `<` does (and runs no callback).
    this.sortedKeys ??= Array.from(this.members.keys()).sort();
    return this.sortedKeys;
  }

  /**
   * Keys in the leaf bucket at `path` (length === depth), with their hashes (`hashOf`, asked
   * for the bucket's keys only), sorted by key.
   */
  bucket(path: readonly number[], hashOf: (key: string) => number): Entry[] {
    return this.buckets([path], hashOf)[0]!;
  }

  /**
   * `bucket` of each of `paths`, in their order, from one pass over the tree's keys (a leaf's
   * keys are not kept apart): anti-entropy asks for up to every leaf of a partition at once.
   */
  buckets(paths: ReadonlyArray<readonly number[]>, hashOf: (key: string) => number): Entry[][] {
    const leaves = paths.map((path) => {
      assert(path.length === this.depth, 'bucket: the path names a leaf');
      return this.indexInLevel(path);
    });
    const keysOf = new Map<number, string[]>(leaves.map((leaf) => [leaf, []]));
    if (keysOf.size > 0) for (const [key, leaf] of this.members) keysOf.get(leaf)?.push(key);
    // The default sort compares strings by UTF-16 code units, as `<` does.
    return leaves.map((leaf) =>
      keysOf
        .get(leaf)!
        .sort()
        .map((key): Entry => {
          const hash = hashOf(key);
          assert(isUint32(hash), 'a version hash is an unsigned 32-bit integer');
          return [key, hash];
        }),
    );
  }

  /** The index within its level of the node at `path`; asserts each step is a child index. */
  private indexInLevel(path: readonly number[]): number {
    let index = 0;
    for (const child of path) {
      assert(Number.isInteger(child), 'a path step is an integer');
      assert(child >= 0 && child < this.fanout, 'a path step is a child index below fanout');
      index = index * this.fanout + child;
    }
    return index;
  }

  /** Adds `delta` (mod 2^32) to the leaf and to each of its ancestors up to the root. */
  private addAlongPath(leaf: number, delta: number): void {
    let index = leaf;
    for (let level = this.depth; level >= 0; level--) {
      const node = this.levelStart[level]! + index;
      this.hashes[node] = this.hashes[node]! + delta; // Uint32Array storage wraps mod 2^32.
      index = Math.floor(index / this.fanout);
    }
    assert(index === 0, 'the walk from a leaf ends at the root');
  }
}

/** A key and its version hash, as a bucket lists them. */
export type Entry = readonly [key: string, hash: number];

/**
 * A MerkleTree that keeps each key's version hash itself, so `update` needs only the new one:
 * for owners with no record to read a previous hash from (tests, benchmarks, tools).
 */
export class KeyedMerkleTree extends MerkleTree {
  private readonly hashOfKey = new Map<string, number>();
  private readonly lookup = (key: string): number => {
    const hash = this.hashOfKey.get(key);
    assert(hash !== undefined, 'a key of the tree has a hash');
    return hash;
  };

  /** Sets a key's version hash, or removes the key when `hash` is null (a no-op if absent). */
  update(key: string, hash: number | null): void {
    assert(hash === null || isUint32(hash), 'a version hash is an unsigned 32-bit integer');
    const previous = this.hashOfKey.get(key) ?? null;
    this.apply(key, previous, hash);
    if (hash === null) this.hashOfKey.delete(key);
    else this.hashOfKey.set(key, hash);
  }

  override bucket(path: readonly number[], hashOf: (key: string) => number = this.lookup): Entry[] {
    return super.bucket(path, hashOf);
  }
}

// ---------------------------------------------------------------------------------------------
// Diff

/** What diffPaths needs from the other replica's tree (answered by messages in the protocol). */
export interface MerkleRemote {
  childHashes(path: readonly number[]): number[];
}

/**
 * The optimised diff: starting at the root's children, descends only into children whose hashes
 * differ and returns the paths of the differing leaf buckets, in path order. Asks `remote` once
 * per differing inner node (plus once for the root), so the cost grows with the difference.
 * Both trees must have the same shape; `depth` must be the local tree's.
 */
export function diffPaths(local: MerkleTree, remote: MerkleRemote, depth: number): number[][] {
  assert(depth === local.depth, 'diffPaths: depth is the local tree depth');
  const differing: number[][] = [];
  const pending: number[][] = [[]];
  // Bound: each inner node is visited at most once, so the loop ends within their count.
  for (let visits = 0; pending.length > 0; visits++) {
    assert(visits < MERKLE_LEAF_COUNT_MAX, 'diffPaths visits each inner node at most once');
    const path = pending.pop()!;
    const children = differingChildren(local, remote, path);
    if (path.length + 1 === depth) {
      for (const child of children) differing.push([...path, child]);
    } else {
      // Onto the stack in reverse, so the smallest child pops first and leaves come in order.
      for (let i = children.length - 1; i >= 0; i--) pending.push([...path, children[i]!]);
    }
  }
  return differing;
}

/** Indexes of the children of `path` whose hashes differ between the two trees, ascending. */
function differingChildren(local: MerkleTree, remote: MerkleRemote, path: number[]): number[] {
  const mine = local.childHashes(path);
  const theirs = remote.childHashes(path);
  assert(theirs.length === mine.length, 'both trees have the same fanout');
  const children: number[] = [];
  for (let i = 0; i < mine.length; i++) if (mine[i] !== theirs[i]) children.push(i);
  return children;
}

function checkSortedBucket(bucket: ReadonlyArray<Entry>): void {
  for (let i = 1; i < bucket.length; i++) {
    assert(bucket[i - 1]![0] < bucket[i]![0], 'a bucket is sorted by key, each key once');
  }
}

/**
 * Keys whose hashes differ between two buckets as `bucket()` returns them (sorted by key): present
 * on one side only, or with different hashes. Returned sorted. One merge walk, O(|a| + |b|).
 */
export function diffBucket(a: ReadonlyArray<Entry>, b: ReadonlyArray<Entry>): string[] {
  checkSortedBucket(a);
  checkSortedBucket(b);
  const keys: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left[0] < right[0])) {
      keys.push(left![0]);
      i++;
    } else if (left === undefined || right[0] < left[0]) {
      keys.push(right[0]);
      j++;
    } else {
      if (left[1] !== right[1]) keys.push(left[0]);
      i++;
      j++;
    }
  }
  assert(keys.length <= a.length + b.length, 'a diff names each key at most once');
  return keys;
}
