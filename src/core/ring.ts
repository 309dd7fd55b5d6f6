/**
 * Consistent hashing with Q equal-size partitions (Dynamo's strategy 3, Riak's ring).
 *
 * The 32-bit hash space is cut into Q = `partitionCount` contiguous ranges of equal size:
 * partition p covers hashes [p * 2^32/Q, (p+1) * 2^32/Q), so a partition is also a key range
 * (Merkle trees are kept per partition). Each partition has one owning physical node; a key's
 * preference list walks the partitions clockwise from the key's partition and keeps the first n
 * distinct nodes.
 *
 * Placement keeps a node's partitions at least `spacing` positions apart where it can, so the n
 * partitions after any partition (n <= spacing) belong to n distinct nodes and every node
 * replicates exactly n times its share. A join steals about Q/(n+1) partitions for the joiner and
 * moves nothing else; a leave hands the leaver's partitions out and moves nothing else. Every
 * node owns floor(Q/n) or ceil(Q/n) partitions after create, withNode and withoutNode.
 *
 * Pure and deterministic: no clock, no randomness; the same calls build the same ring.
 */
import { assert } from './assert.js';
import {
  murmurFinalize as finalize,
  murmurMixBlock as mixBlock,
  murmurScramble as scramble,
} from './murmur3.js';
import type { NodeId } from './types.js';

/** Largest ring size accepted. */
export const PARTITION_COUNT_MAX = 65_536;
/** Default minimum distance, in partitions, between two partitions of one node. */
export const SPACING_DEFAULT = 3;
/** Size of the 32-bit hash space. */
const HASH_SPACE_SIZE = 2 ** 32;

// ---------------------------------------------------------------------------------------------
// murmur3 x86 32-bit

/** Keys up to this many UTF-16 units are encoded into a reused scratch buffer. */
const SCRATCH_KEY_LENGTH_MAX = 1024;

const textEncoder = new TextEncoder();
/** 3 bytes per UTF-16 unit is the worst case of UTF-8 (a surrogate pair takes 4 for 2 units). */
const scratchBytes = new Uint8Array(SCRATCH_KEY_LENGTH_MAX * 3);

/** murmur3 x86 32-bit of `bytes[0, length)`, as an unsigned 32-bit integer. */
function murmurBytes(bytes: Uint8Array, length: number, seed: number): number {
  assert(length <= bytes.length, 'murmur3: length within the buffer');
  assert(length >= 0, 'murmur3: length is not negative');
  let h = seed | 0;
  const blocksEnd = length & ~3;
  for (let i = 0; i < blocksEnd; i += 4) {
    h = mixBlock(
      h,
      bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24),
    );
  }
  const tailLength = length & 3;
  if (tailLength > 0) {
    let tail = bytes[blocksEnd]!;
    if (tailLength > 1) tail |= bytes[blocksEnd + 1]! << 8;
    if (tailLength > 2) tail |= bytes[blocksEnd + 2]! << 16;
    h ^= scramble(tail);
  }
  return finalize(h, length);
}

/**
 * murmur3 (seed 0) of an ASCII key straight from its UTF-16 units, which are then its UTF-8
 * bytes; -1 if the key has a unit >= 0x80 (the caller then encodes it).
 */
function murmurAscii(key: string): number {
  const length = key.length;
  const blocksEnd = length & ~3;
  let h = 0;
  for (let i = 0; i < blocksEnd; i += 4) {
    const b0 = key.charCodeAt(i);
    const b1 = key.charCodeAt(i + 1);
    const b2 = key.charCodeAt(i + 2);
    const b3 = key.charCodeAt(i + 3);
    if ((b0 | b1 | b2 | b3) >= 0x80) return -1;
    const block = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
    h = mixBlock(h, block);
  }
  let tail = 0;
  for (let i = length - 1; i >= blocksEnd; i--) {
    const unit = key.charCodeAt(i);
    if (unit >= 0x80) return -1;
    tail = (tail << 8) | unit;
  }
  if (length > blocksEnd) h ^= scramble(tail);
  return finalize(h, length);
}

/** murmur3 x86 32-bit of `bytes` with `seed`, as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  return murmurBytes(bytes, bytes.length, seed);
}

/** The ring hash of a key: murmur3 x86 32-bit (seed 0) of its UTF-8 bytes, unsigned. */
export function hashKey(key: string): number {
  const ascii = murmurAscii(key);
  if (ascii >= 0) return ascii;
  if (key.length > SCRATCH_KEY_LENGTH_MAX) return murmur3(textEncoder.encode(key));
  const { read, written } = textEncoder.encodeInto(key, scratchBytes);
  assert(read === key.length, 'hashKey: the whole key fits the scratch buffer');
  return murmurBytes(scratchBytes, written, 0);
}

// ---------------------------------------------------------------------------------------------
// Validation

function isPowerOfTwo(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && (value & (value - 1)) === 0;
}

function validatePartitionCount(partitionCount: number): void {
  if (!isPowerOfTwo(partitionCount) || partitionCount > PARTITION_COUNT_MAX) {
    throw new RangeError(
      `ring: partition count must be a power of two in 1..${PARTITION_COUNT_MAX}, got ${partitionCount}`,
    );
  }
}

function validateSpacing(spacing: number): void {
  if (!Number.isInteger(spacing) || spacing < 1) {
    throw new RangeError(`ring: spacing must be an integer >= 1, got ${spacing}`);
  }
}

function validateNodeId(id: NodeId): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new RangeError(`ring: a node id must be a non-empty string, got ${JSON.stringify(id)}`);
  }
}

function validateNodes(nodes: readonly NodeId[], partitionCount: number): void {
  if (nodes.length === 0) throw new RangeError('ring: at least one node is required');
  const seen = new Set<NodeId>();
  for (const id of nodes) {
    validateNodeId(id);
    if (seen.has(id)) throw new RangeError(`ring: duplicate node id ${id}`);
    seen.add(id);
  }
  if (nodes.length > partitionCount) {
    throw new RangeError(
      `ring: ${nodes.length} nodes need at least as many partitions, got ${partitionCount}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Placement helpers (operate on a mutable working copy of the owners)

function compareIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True if `node` owns a partition within `spacing - 1` positions of p, either way round. */
function isNear(
  owners: readonly (NodeId | undefined)[],
  p: number,
  node: NodeId,
  spacing: number,
): boolean {
  const count = owners.length;
  for (let d = 1; d < spacing; d++) {
    if (owners[(p + d) % count] === node) return true;
    if (owners[(p - d + count) % count] === node) return true;
  }
  return false;
}

function loadsOf(owners: readonly NodeId[]): Map<NodeId, number> {
  const loads = new Map<NodeId, number>();
  for (const owner of owners) loads.set(owner, (loads.get(owner) ?? 0) + 1);
  return loads;
}

/**
 * Target partition counts when `partitionCount` partitions are shared by `nodes`: floor or ceil
 * of the mean, the ceil going to the nodes that own the most now (ties: smaller id), so no node
 * has to move further than needed.
 */
function targetsOf(
  nodes: readonly NodeId[],
  loads: ReadonlyMap<NodeId, number>,
  partitionCount: number,
): Map<NodeId, number> {
  const floor = Math.floor(partitionCount / nodes.length);
  const ceilCount = partitionCount - floor * nodes.length;
  const ranked = [...nodes].sort((a, b) => {
    const byLoad = (loads.get(b) ?? 0) - (loads.get(a) ?? 0);
    return byLoad !== 0 ? byLoad : compareIds(a, b);
  });
  const targets = new Map<NodeId, number>();
  for (const [rank, id] of ranked.entries()) targets.set(id, rank < ceilCount ? floor + 1 : floor);
  assert(targets.size === nodes.length, 'ring: one target per node');
  assert(ceilCount < nodes.length, 'ring: fewer ceil targets than nodes');
  return targets;
}

/** Round robin in the given order: owner[p] = nodes[p % nodes.length]. */
function roundRobin(nodes: readonly NodeId[], partitionCount: number): NodeId[] {
  const owners = Array.from({ length: partitionCount }, (_, p) => nodes[p % nodes.length]!);
  assert(owners.length === partitionCount, 'ring: one owner per partition');
  assert(owners[0] === nodes[0], 'ring: round robin starts at the first node');
  return owners;
}

/** Number of positions within `spacing - 1` of the wrap point that break spacing. */
function wrapConflictCount(owners: readonly NodeId[], spacing: number): number {
  const count = owners.length;
  let conflicts = 0;
  for (let i = 0; i < Math.min(count, spacing); i++) {
    const p = (count - 1 - i + count) % count;
    if (isNear(owners, p, owners[p]!, spacing)) conflicts++;
  }
  return conflicts;
}

/** Search budget for rearranging the end of a round-robin ring. */
const TAIL_SEARCH_STEPS_MAX = 20_000;

/**
 * Round robin breaks spacing only across the wrap, when Q mod n is in 1..spacing-1. Permute the
 * owners of the last few partitions (same multiset, so loads are unchanged) by a bounded
 * depth-first search until every one of them is `spacing` away from its own kind. If the search
 * finds nothing (for example 3 nodes and Q not a multiple of 3, where it is impossible) the
 * round robin is kept.
 */
function spreadTail(owners: NodeId[], spacing: number): void {
  if (spacing < 2 || wrapConflictCount(owners, spacing) === 0) return;
  const windowSize = Math.min(owners.length, 8 * spacing);
  const start = owners.length - windowSize;
  const remaining = loadsOf(owners.slice(start));
  const slots: (NodeId | undefined)[] = owners.slice();
  slots.fill(undefined, start);
  const order = [...remaining.keys()].sort(compareIds);
  const budget = { steps: TAIL_SEARCH_STEPS_MAX };
  if (!fillSlots(slots, start, remaining, order, spacing, budget)) return;
  for (let p = start; p < owners.length; p++) owners[p] = slots[p]!;
  assert(wrapConflictCount(owners, spacing) === 0, 'ring: tail spread leaves no wrap conflict');
}

function fillSlots(
  slots: (NodeId | undefined)[],
  p: number,
  remaining: Map<NodeId, number>,
  order: readonly NodeId[],
  spacing: number,
  budget: { steps: number },
): boolean {
  if (p === slots.length) return true;
  assert(slots[p] === undefined, 'ring: tail search fills empty slots in order');
  // Most remaining first: the nodes hardest to place go while there is room.
  const candidates = order
    .filter((id) => remaining.get(id)! > 0 && !isNear(slots, p, id, spacing))
    .sort((a, b) => remaining.get(b)! - remaining.get(a)!);
  for (const id of candidates) {
    if (budget.steps-- <= 0) return false;
    slots[p] = id;
    remaining.set(id, remaining.get(id)! - 1);
    if (fillSlots(slots, p + 1, remaining, order, spacing, budget)) return true;
    remaining.set(id, remaining.get(id)! + 1);
    slots[p] = undefined;
  }
  return false;
}

/** Whether the joiner may take partition p at spacing `level`: its owner is above target. */
function isTakeable(
  owners: readonly NodeId[],
  p: number,
  joiner: NodeId,
  surplus: ReadonlyMap<NodeId, number>,
  level: number,
): boolean {
  const owner = owners[p]!;
  return owner !== joiner && surplus.get(owner)! > 0 && !isNear(owners, p, joiner, level);
}

function take(owners: NodeId[], p: number, joiner: NodeId, surplus: Map<NodeId, number>): void {
  const owner = owners[p]!;
  assert(owner !== joiner, 'ring: the joiner takes from another node');
  assert(surplus.get(owner)! > 0, 'ring: the joiner takes only from nodes above target');
  owners[p] = joiner;
  surplus.set(owner, surplus.get(owner)! - 1);
}

/**
 * First the joiner takes partitions that sit within `spacing - 1` of another partition of the
 * same owner (left by earlier joins and leaves): each such take heals a spacing conflict.
 * Returns how many it took.
 */
function takeCrowded(
  owners: NodeId[],
  joiner: NodeId,
  quota: number,
  surplus: Map<NodeId, number>,
  spacing: number,
  start: number,
): number {
  const count = owners.length;
  let taken = 0;
  for (let i = 0; i < count && taken < quota; i++) {
    const p = (start + i) % count;
    if (!isNear(owners, p, owners[p]!, spacing)) continue;
    if (!isTakeable(owners, p, joiner, surplus, spacing)) continue;
    take(owners, p, joiner, surplus);
    taken++;
  }
  assert(taken <= quota, 'ring: the joiner takes no more than its quota');
  return taken;
}

/**
 * Moves `quota` partitions to `joiner`, each from an owner that still has `surplus`. After the
 * crowded ones, walks the ring from `start` in steps of about Q/quota so the joiner's partitions
 * spread evenly, taking the first partition at least `level` away from the joiner's others, and
 * lowers the level only when a whole lap finds none.
 */
function stealPartitions(
  owners: NodeId[],
  joiner: NodeId,
  quota: number,
  surplus: Map<NodeId, number>,
  spacing: number,
  start: number,
): void {
  const count = owners.length;
  const stride = Math.max(1, Math.floor(count / quota));
  let taken = takeCrowded(owners, joiner, quota, surplus, spacing, start);
  let cursor = start % count;
  for (let level = spacing; level >= 1 && taken < quota; level--) {
    let scannedSinceTake = 0;
    while (taken < quota && scannedSinceTake < count) {
      if (isTakeable(owners, cursor, joiner, surplus, level)) {
        take(owners, cursor, joiner, surplus);
        taken++;
        scannedSinceTake = 0;
        cursor = (cursor + stride) % count;
      } else {
        scannedSinceTake++;
        cursor = (cursor + 1) % count;
      }
    }
  }
  assert(taken === quota, 'ring: the joiner takes its whole quota');
}

/**
 * The node that inherits partition p from a leaver: among nodes still short of their target
 * (`deficit`), prefer one with no partition within `spacing - 1` of p, then the largest
 * deficit, then the smaller id.
 */
function heirOf(
  owners: readonly NodeId[],
  p: number,
  deficit: ReadonlyMap<NodeId, number>,
  ranked: readonly NodeId[],
  spacing: number,
): NodeId {
  for (let level = spacing; level >= 1; level--) {
    let best: NodeId | undefined;
    for (const id of ranked) {
      const short = deficit.get(id)!;
      if (short <= 0 || isNear(owners, p, id, level)) continue;
      if (best === undefined || short > deficit.get(best)!) best = id;
    }
    if (best !== undefined) return best;
  }
  assert(false, 'ring: some node is short of its target while the leaver owns partitions');
}

// ---------------------------------------------------------------------------------------------
// Ring

/** An immutable ring: partition -> owning node, with cached preference lists. */
export class Ring {
  /** Owner of each partition, indexed by partition. */
  readonly owners: readonly NodeId[];
  /** Q: the number of equal-size partitions, a power of two. */
  readonly partitionCount: number;
  /** Preferred minimum distance between two partitions of one node, used by withNode/withoutNode. */
  readonly spacing: number;
  /** 32 - log2(Q): a hash shifted right by this is its partition (Q = 1 is special-cased). */
  readonly #shiftBits: number;
  readonly #nodes: readonly NodeId[];
  /** Preference lists by min(n, nodes) then partition, filled lazily. */
  readonly #lists = new Map<number, (readonly NodeId[] | undefined)[]>();

  private constructor(owners: readonly NodeId[], spacing: number) {
    validatePartitionCount(owners.length);
    validateSpacing(spacing);
    for (const owner of owners) validateNodeId(owner);
    this.owners = Object.freeze(owners.slice());
    this.partitionCount = owners.length;
    this.spacing = spacing;
    this.#shiftBits = 32 - Math.log2(owners.length);
    this.#nodes = Object.freeze([...new Set(owners)].sort(compareIds));
    assert(this.#nodes.length >= 1, 'ring: at least one node');
    assert(this.#nodes.length <= this.partitionCount, 'ring: no more nodes than partitions');
  }

  /**
   * A ring of `partitionCount` partitions over `nodes`: round robin in the given order (with
   * the end rearranged so spacing also holds across the wrap where possible).
   */
  static create(nodes: readonly NodeId[], partitionCount: number, spacing = SPACING_DEFAULT) {
    validatePartitionCount(partitionCount);
    validateSpacing(spacing);
    validateNodes(nodes, partitionCount);
    const owners = roundRobin(nodes, partitionCount);
    spreadTail(owners, Math.min(spacing, nodes.length));
    return new Ring(owners, spacing);
  }

  /** A ring with the given owners, for example one received by gossip. */
  static fromOwners(owners: readonly NodeId[], spacing = SPACING_DEFAULT): Ring {
    return new Ring(owners, spacing);
  }

  /**
   * This ring with `id` added: it takes floor(Q/(n+1)) partitions, each from a node above its
   * new target, spread out and spaced where possible. Only partitions moving to `id` change owner.
   */
  withNode(id: NodeId): Ring {
    validateNodeId(id);
    if (this.has(id)) throw new RangeError(`ring: node ${id} is already in the ring`);
    const nodeCount = this.#nodes.length + 1;
    if (nodeCount > this.partitionCount) {
      throw new RangeError(
        `ring: ${nodeCount} nodes do not fit in ${this.partitionCount} partitions`,
      );
    }
    const owners = this.owners.slice();
    const loads = loadsOf(owners);
    const targets = targetsOf([...this.#nodes, id], loads, this.partitionCount);
    const surplus = new Map<NodeId, number>();
    for (const node of this.#nodes) surplus.set(node, loads.get(node)! - targets.get(node)!);
    assert(
      [...surplus.values()].every((extra) => extra >= 0),
      'ring: no node below its target',
    );
    const quota = targets.get(id)!;
    assert(
      quota === Math.floor(this.partitionCount / nodeCount),
      'ring: the joiner gets floor(Q/n)',
    );
    const start = this.partitionOfHash(hashKey(id));
    stealPartitions(owners, id, quota, surplus, Math.min(this.spacing, nodeCount), start);
    return new Ring(owners, this.spacing);
  }

  /**
   * This ring without `id`: its partitions go to the nodes furthest below their new target,
   * spaced where possible. Only the leaver's partitions change owner.
   */
  withoutNode(id: NodeId): Ring {
    if (!this.has(id)) throw new RangeError(`ring: node ${String(id)} is not in the ring`);
    if (this.#nodes.length === 1) throw new RangeError(`ring: cannot remove the last node ${id}`);
    const remaining = this.#nodes.filter((node) => node !== id);
    const owners = this.owners.slice();
    const loads = loadsOf(owners);
    const targets = targetsOf(remaining, loads, this.partitionCount);
    const deficit = new Map<NodeId, number>();
    for (const node of remaining) deficit.set(node, targets.get(node)! - loads.get(node)!);
    assert(
      [...deficit.values()].every((short) => short >= 0),
      'ring: no node above its target',
    );
    const spacing = Math.min(this.spacing, remaining.length);
    for (let p = 0; p < owners.length; p++) {
      if (owners[p] !== id) continue;
      const heir = heirOf(owners, p, deficit, remaining, spacing);
      owners[p] = heir;
      deficit.set(heir, deficit.get(heir)! - 1);
    }
    assert(!owners.includes(id), 'ring: the leaver owns nothing');
    return new Ring(owners, this.spacing);
  }

  /** The distinct owners, sorted by id. */
  nodes(): readonly NodeId[] {
    return this.#nodes;
  }

  /** Whether `id` owns at least one partition. */
  has(id: NodeId): boolean {
    return this.#nodes.includes(id);
  }

  ownerOf(partition: number): NodeId {
    this.#validatePartition(partition);
    return this.owners[partition]!;
  }

  /** The partitions `node` owns, ascending (empty if it is not in the ring). */
  partitionsOf(node: NodeId): number[] {
    const partitions: number[] = [];
    for (let p = 0; p < this.partitionCount; p++) if (this.owners[p] === node) partitions.push(p);
    return partitions;
  }

  /** The partition whose hash range holds `hash` (an unsigned 32-bit integer). */
  partitionOfHash(hash: number): number {
    return this.#shiftBits === 32 ? 0 : hash >>> this.#shiftBits;
  }

  partitionOf(key: string): number {
    return this.partitionOfHash(hashKey(key));
  }

  /** The hash range [start, end) of a partition; end is at most 2^32. */
  hashRangeOf(partition: number): readonly [start: number, end: number] {
    this.#validatePartition(partition);
    const width = HASH_SPACE_SIZE / this.partitionCount;
    return [partition * width, (partition + 1) * width];
  }

  /** The first min(n, nodes) distinct nodes clockwise from the key's partition. O(1) amortised. */
  preferenceList(key: string, n: number): readonly NodeId[] {
    return this.preferenceListForPartition(this.partitionOf(key), n);
  }

  preferenceListForPartition(partition: number, n: number): readonly NodeId[] {
    const length = Math.min(n, this.#nodes.length);
    let lists = this.#lists.get(length);
    if (lists === undefined) {
      assert(Number.isInteger(n), 'ring: preference list length is an integer');
      assert(n >= 1, 'ring: preference list length is at least 1');
      lists = Array.from({ length: this.partitionCount }, () => undefined);
      this.#lists.set(length, lists);
    }
    const cached = lists[partition];
    if (cached !== undefined) return cached;
    this.#validatePartition(partition);
    const list = this.#walk(partition, length);
    lists[partition] = list;
    return list;
  }

  #walk(partition: number, length: number): readonly NodeId[] {
    const list: NodeId[] = [];
    for (let i = 0; i < this.partitionCount && list.length < length; i++) {
      const owner = this.owners[(partition + i) % this.partitionCount]!;
      if (!list.includes(owner)) list.push(owner);
    }
    assert(list.length === length, 'ring: a preference list has min(n, nodes) nodes');
    assert(list[0] === this.owners[partition], 'ring: a preference list starts at the owner');
    assert(new Set(list).size === list.length, 'ring: a preference list has distinct nodes');
    return Object.freeze(list);
  }

  #validatePartition(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitionCount) {
      throw new RangeError(`ring: partition ${partition} is not in 0..${this.partitionCount - 1}`);
    }
  }
}
