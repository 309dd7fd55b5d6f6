/**
 * Merkle trees (src/core/merkle.ts): the cost of keeping a tree current on every write, and the
 * cost of finding what two replicas of 1 000 000 keys disagree on.
 *
 * Layouts (each built twice — a local replica and a remote one — from keys `user:N`):
 * - 1M keys in ONE tree of 16^3 = 4096 buckets (~244 keys a bucket: the worst case for bucket
 *   size, a whole data set in one partition with the default shape),
 * - 1M keys in one tree of 16^4 = 65 536 buckets (~15 keys a bucket),
 * - 1M keys over 1024 partitions of 16^2 buckets, as anti-entropy.ts keeps them (~4 keys a
 *   bucket); an exchange there first compares all 1024 roots, then descends where they differ.
 * The remote then diverges in k = 1, 100 or 10 000 keys (half with another version, a quarter
 * missing, a quarter extra). One exchange = diffPaths against the remote (per differing
 * partition), then the remote's bucket for each differing leaf diffed with the local one —
 * everything but moving the k records themselves.
 *
 * Setup runs every exchange (k = 10 000: best of 3), checks that it finds exactly k keys, and
 * prints what crosses the wire: childHashes calls, buckets fetched, and bytes ≈ 4 per hash (roots
 * and children) + (UTF-8 key + 4) per bucket entry, paths and message framing left out. The
 * table times the exchanges for k = 1 and 100 (k = 10 000 takes too long for 64 samples).
 */
import {
  bucketPath,
  diffBucket,
  diffPaths,
  KeyedMerkleTree,
  versionHash,
} from '../../src/core/merkle.js';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import { recordWithSiblings } from './data.js';
import { consume, type MicroGroup, type MicroTask } from './harness.js';

const KEY_COUNT = 1_000_000;
const FANOUT = 16;
const DIVERGENCES = [1, 100, 10_000] as const;
const TIMED_DIVERGENCES = [1, 100] as const;
const PARTITION_COUNT = 1024;
/** Operations per sample of the cheap tasks. */
const UPDATE_BATCH = 1024;
const LOOKUP_BATCH = 256;
const HASH_BYTES = 4;
/** A stride coprime with KEY_COUNT, so divergent keys are distinct and spread over the tree. */
const DIVERGENCE_STRIDE = 7919;

const keyOf = (i: number): string => `user:${i}`;
const hashOf = (i: number): number => Math.imul(i + 1, 0x9e3779b1) >>> 0;

/** UTF-8 length without encoding (a surrogate pair is 2 units and 4 bytes). */
function utf8Length(key: string): number {
  let bytes = 0;
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff)) bytes += 2;
    else bytes += 3;
  }
  return bytes;
}

interface Layout {
  readonly label: string;
  readonly depth: number;
  readonly partitionCount: number;
  partitionOf(key: string): number;
}

interface ExchangeCost {
  readonly partitionsDiffering: number;
  readonly childHashCalls: number;
  readonly bucketFetches: number;
  readonly bytes: number;
  readonly differingKeys: number;
}

function buildReplica(layout: Layout, keys: readonly string[]): KeyedMerkleTree[] {
  const trees = Array.from(
    { length: layout.partitionCount },
    () => new KeyedMerkleTree({ depth: layout.depth, fanout: FANOUT }),
  );
  for (let i = 0; i < keys.length; i++) {
    trees[layout.partitionOf(keys[i]!)]!.update(keys[i]!, hashOf(i));
  }
  return trees;
}

/** A local and a remote replica of the same keys; the remote diverges in `k` keys at a time. */
class Replicas {
  readonly local: KeyedMerkleTree[];
  readonly remote: KeyedMerkleTree[];
  /** Mean time to build one replica (all its trees) from scratch. */
  readonly buildMs: number;
  private divergedK = 0;
  /** What diverge() changed on the remote: key and its original hash (null: was absent). */
  private undo: Array<readonly [string, number | null]> = [];

  constructor(
    readonly layout: Layout,
    keys: readonly string[],
  ) {
    const started = performance.now();
    this.local = buildReplica(layout, keys);
    this.remote = buildReplica(layout, keys);
    this.buildMs = (performance.now() - started) / 2;
  }

  /** Makes the remote differ from the local replica in exactly `k` keys (undoing the last k). */
  diverge(k: number): void {
    if (k === this.divergedK) return;
    for (const [key, hash] of this.undo.reverse()) this.remoteTree(key).update(key, hash);
    this.undo = [];
    for (let j = 0; j < k; j++) {
      const index = (j * DIVERGENCE_STRIDE + 13) % KEY_COUNT;
      const kind = j % 4;
      const key = kind === 3 ? `extra:${j}` : keyOf(index);
      this.undo.push([key, kind === 3 ? null : hashOf(index)]);
      const hash = kind === 3 ? 1 : kind === 2 ? null : (hashOf(index) ^ 0x5a5a5a5a) >>> 0;
      this.remoteTree(key).update(key, hash);
    }
    this.divergedK = k;
  }

  /** One anti-entropy exchange: roots, then the optimised diff of each differing partition. */
  exchange(): ExchangeCost {
    let cost = {
      partitionsDiffering: 0,
      childHashCalls: 0,
      bucketFetches: 0,
      bytes: this.local.length * HASH_BYTES,
      differingKeys: 0,
    };
    for (let p = 0; p < this.local.length; p++) {
      if (this.local[p]!.root() === this.remote[p]!.root()) continue;
      cost = addCosts(cost, diffPartition(this.local[p]!, this.remote[p]!));
    }
    return cost;
  }

  private remoteTree(key: string): KeyedMerkleTree {
    return this.remote[this.layout.partitionOf(key)]!;
  }
}

function addCosts(a: ExchangeCost, b: ExchangeCost): ExchangeCost {
  return {
    partitionsDiffering: a.partitionsDiffering + b.partitionsDiffering,
    childHashCalls: a.childHashCalls + b.childHashCalls,
    bucketFetches: a.bucketFetches + b.bucketFetches,
    bytes: a.bytes + b.bytes,
    differingKeys: a.differingKeys + b.differingKeys,
  };
}

/** diffPaths against the remote tree, then each differing bucket, counting what it sends back. */
function diffPartition(local: KeyedMerkleTree, remoteTree: KeyedMerkleTree): ExchangeCost {
  let childHashCalls = 0;
  let bytes = 0;
  const remote = {
    childHashes(path: readonly number[]): number[] {
      childHashCalls++;
      const hashes = remoteTree.childHashes(path);
      bytes += hashes.length * HASH_BYTES;
      return hashes;
    },
  };
  const paths = diffPaths(local, remote, local.depth);
  let differingKeys = 0;
  for (const path of paths) {
    const theirs = remoteTree.bucket(path);
    for (const [key] of theirs) bytes += utf8Length(key) + HASH_BYTES;
    differingKeys += diffBucket(local.bucket(path), theirs).length;
  }
  return {
    partitionsDiffering: 1,
    childHashCalls,
    bucketFetches: paths.length,
    bytes,
    differingKeys,
  };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
}

/** The exchange for `k`, run `runs` times: its cost (checked to find k keys) and best time. */
function measureOnce(replicas: Replicas, k: number, runs: number): string {
  replicas.diverge(k);
  let bestMs = Number.POSITIVE_INFINITY;
  let cost: ExchangeCost | null = null;
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    cost = replicas.exchange();
    bestMs = Math.min(bestMs, performance.now() - started);
  }
  if (cost === null || cost.differingKeys !== k) {
    throw new Error(`${replicas.layout.label}, k = ${k}: found ${cost?.differingKeys} keys`);
  }
  const { depth, partitionCount } = replicas.layout;
  const partitions = partitionCount > 1 ? `${cost.partitionsDiffering} partitions differ, ` : '';
  return (
    `${replicas.layout.label}, k = ${String(k).padStart(6)}: ${partitions}` +
    `${cost.childHashCalls} childHashes calls, ${cost.bucketFetches} buckets fetched, ` +
    `~${formatBytes(cost.bytes)}, ${1 + cost.partitionsDiffering * (depth + 1)} round trips ` +
    `one partition at a time, ${bestMs.toFixed(2)} ms (best of ${runs})`
  );
}

function measureExchanges(replicas: Replicas): string[] {
  const lines = DIVERGENCES.map((k) => measureOnce(replicas, k, k >= 10_000 ? 3 : 1));
  replicas.diverge(0);
  return lines;
}

function diffTask(replicas: Replicas, k: number): MicroTask {
  return {
    name: `exchange, ${replicas.layout.label}, k = ${k}`,
    opsPerSample: 1,
    fn: () => {
      replicas.diverge(k);
      consume(replicas.exchange().differingKeys);
    },
  };
}

function updateTasks(tree: KeyedMerkleTree, keys: readonly string[]): MicroTask[] {
  const fresh = Array.from({ length: UPDATE_BATCH }, (_, i) => `fresh:${i}`);
  let cursor = 0;
  return [
    {
      name: 'update, new version of a key (1M-key tree)',
      opsPerSample: 2 * UPDATE_BATCH,
      fn: () => {
        // Each key gets a new version and then its own back, so the tree ends as it began.
        for (let i = 0; i < UPDATE_BATCH; i++) {
          const index = (cursor + i * DIVERGENCE_STRIDE) % KEY_COUNT;
          tree.update(keys[index]!, (hashOf(index) ^ 1) >>> 0);
          tree.update(keys[index]!, hashOf(index));
        }
        cursor = (cursor + 1) % KEY_COUNT;
        consume(tree.root());
      },
    },
    {
      name: 'update, insert then remove a key (1M-key tree)',
      opsPerSample: 2 * UPDATE_BATCH,
      fn: () => {
        for (let i = 0; i < UPDATE_BATCH; i++) tree.update(fresh[i]!, i);
        for (let i = 0; i < UPDATE_BATCH; i++) tree.update(fresh[i]!, null);
        consume(tree.size);
      },
    },
  ];
}

function readTasks(tree: KeyedMerkleTree): MicroTask[] {
  const leafPaths = Array.from({ length: 16 }, (_, i) =>
    bucketPath(keyOf(i), tree.depth, tree.fanout),
  );
  return [
    {
      name: 'root() (1M-key tree)',
      opsPerSample: LOOKUP_BATCH,
      fn: () => {
        let acc = 0;
        for (let i = 0; i < LOOKUP_BATCH; i++) acc = (acc + tree.root()) | 0;
        consume(acc);
      },
    },
    {
      name: 'childHashes(path), a level-2 node',
      opsPerSample: LOOKUP_BATCH,
      fn: () => {
        let acc = 0;
        for (let i = 0; i < LOOKUP_BATCH; i++) acc += tree.childHashes([i >> 4, i & 15]).length;
        consume(acc);
      },
    },
    {
      name: 'bucket(path), ~244 keys sorted',
      opsPerSample: leafPaths.length,
      fn: () => {
        let acc = 0;
        for (const path of leafPaths) acc += tree.bucket(path).length;
        consume(acc);
      },
    },
  ];
}

function versionHashTasks(): MicroTask[] {
  return [1, 3].map((siblings) => {
    const record = recordWithSiblings(siblings, 5);
    return {
      name: `versionHash, ${siblings} sibling${siblings === 1 ? '' : 's'}`,
      opsPerSample: LOOKUP_BATCH,
      fn: () => {
        let acc = 0;
        for (let i = 0; i < LOOKUP_BATCH; i++) acc = (acc + versionHash(record)) | 0;
        consume(acc);
      },
    };
  });
}

function layouts(): Layout[] {
  const ring = Ring.create([nodeId('n1')], PARTITION_COUNT);
  const single = (depth: number): Layout => ({
    label: `1 tree of ${FANOUT}^${depth}`,
    depth,
    partitionCount: 1,
    partitionOf: () => 0,
  });
  return [
    single(3),
    single(4),
    {
      label: `${PARTITION_COUNT} trees of ${FANOUT}^2`,
      depth: 2,
      partitionCount: PARTITION_COUNT,
      partitionOf: (key) => ring.partitionOf(key),
    },
  ];
}

function buildNotes(all: readonly Replicas[], keys: readonly string[]): string[] {
  const notes = all.map((replicas) => {
    const rate = Math.round(KEY_COUNT / (replicas.buildMs / 1000)).toLocaleString('en-US');
    return `build 1M keys into ${replicas.layout.label}: ${replicas.buildMs.toFixed(0)} ms (${rate} inserts/s)`;
  });
  let fullBytes = 0;
  for (const key of keys) fullBytes += utf8Length(key) + HASH_BYTES;
  notes.push(`for scale, sending every (key, hash) instead: ~${formatBytes(fullBytes)}`);
  return notes;
}

export const merkleGroup: MicroGroup = {
  name: 'merkle',
  title: 'Merkle tree update and anti-entropy diff, 1 000 000 keys',
  async setup() {
    const keys = Array.from({ length: KEY_COUNT }, (_, i) => keyOf(i));
    const all = layouts().map((layout) => new Replicas(layout, keys));
    const notes = [...buildNotes(all, keys), ...all.flatMap(measureExchanges)];
    const defaultTree = all[0]!.local[0]!;
    return {
      tasks: [
        ...updateTasks(defaultTree, keys),
        ...readTasks(defaultTree),
        ...versionHashTasks(),
        ...all.flatMap((replicas) => TIMED_DIVERGENCES.map((k) => diffTask(replicas, k))),
      ],
      notes: [
        ...notes,
        'exchange rows: synchronous (no transport); moving the k records is not included',
      ],
    };
  },
};
