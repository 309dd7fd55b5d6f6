/**
 * Ring micro-benchmark and placement report.
 *
 *   node --import tsx bench/ring.bench.ts [partitionCount]   (default 1024)
 *
 * 1. Lookups per second of preferenceList(key, 3) (tinybench) on a 5- and a 64-node ring.
 * 2. Balance: max/mean keys per node by primary owner and by replica (N = 3) for 100 000 keys,
 *    for several cluster sizes, at the given Q and at Q = 256. Goal: max/mean <= 1.10.
 * 3. Movement: the fraction of keys whose primary owner or replica set changes when an 11th
 *    node joins a 10-node ring, and when a node leaves it. Ideal: 1/11 (join), 1/10 (leave).
 */
import { Bench } from 'tinybench';
import { hashKey, Ring } from '../src/core/ring.js';
import { type NodeId, nodeId } from '../src/core/types.js';

const partitionCountDefault = Number(process.argv[2] ?? 1024);
const KEY_COUNT = 100_000;
const REPLICA_COUNT = 3;
const LOOKUP_BATCH = 1024;

const ids = (count: number): NodeId[] =>
  Array.from({ length: count }, (_, i) => nodeId(`n${i + 1}`));

/** mulberry32: a small seeded PRNG so the keys are the same on every run. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

async function benchLookups(partitionCount: number): Promise<void> {
  const random = prng(42);
  const keys = Array.from({ length: LOOKUP_BATCH }, () => `user:${Math.floor(random() * 1e9)}`);
  const small = Ring.create(ids(5), partitionCount);
  const large = Ring.create(ids(64), partitionCount);
  let sink = 0;
  // One loop per task (no shared higher-order helper) so each call site stays monomorphic.
  const bench = new Bench({ time: 1000, warmupTime: 200 });
  bench
    .add('hashKey', () => {
      for (const key of keys) sink += hashKey(key);
    })
    .add('preferenceList(key, 3), 5 nodes', () => {
      for (const key of keys) sink += small.preferenceList(key, 3).length;
    })
    .add('preferenceList(key, 3), 64 nodes', () => {
      for (const key of keys) sink += large.preferenceList(key, 3).length;
    })
    .add('preferenceListForPartition(p, 3), 64 nodes (no hash)', () => {
      for (let p = 0; p < LOOKUP_BATCH; p++) {
        sink += large.preferenceListForPartition(p % partitionCount, 3).length;
      }
    });
  await bench.run();
  const rows = bench.tasks.map((task) => {
    const result = task.result;
    if (result.state !== 'completed') return { name: task.name, state: result.state };
    const lookupsPerSecond = result.throughput.mean * LOOKUP_BATCH;
    return {
      name: task.name,
      'ops/s': Math.round(lookupsPerSecond).toLocaleString('en-US'),
      'mean ns': Number(((result.latency.mean * 1e6) / LOOKUP_BATCH).toFixed(1)),
    };
  });
  console.log(
    `\nLookups (Q = ${partitionCount}, ${LOOKUP_BATCH} keys per sample; sink ${sink > 0})`,
  );
  console.table(rows);
}

const round3 = (value: number): number => Number(value.toFixed(3));

function maxOverMean(counts: ReadonlyMap<NodeId, number>, nodeCount: number): number {
  let total = 0;
  let max = 0;
  for (const count of counts.values()) {
    total += count;
    max = Math.max(max, count);
  }
  return round3(max / (total / nodeCount));
}

function balanceRow(nodeCount: number, partitionCount: number, hashes: Uint32Array) {
  const ring = Ring.create(ids(nodeCount), partitionCount);
  const partitions = new Map<NodeId, number>();
  const primary = new Map<NodeId, number>();
  const replica = new Map<NodeId, number>();
  for (const owner of ring.owners) partitions.set(owner, (partitions.get(owner) ?? 0) + 1);
  for (const hash of hashes) {
    const p = ring.partitionOfHash(hash);
    const list = ring.preferenceListForPartition(p, REPLICA_COUNT);
    primary.set(list[0]!, (primary.get(list[0]!) ?? 0) + 1);
    for (const id of list) replica.set(id, (replica.get(id) ?? 0) + 1);
  }
  return {
    Q: partitionCount,
    nodes: nodeCount,
    'partitions max/mean': maxOverMean(partitions, nodeCount),
    'primary max/mean': maxOverMean(primary, nodeCount),
    'replica max/mean': maxOverMean(replica, nodeCount),
  };
}

function balanceTable(partitionCounts: readonly number[], hashes: Uint32Array): void {
  const rows = [];
  for (const partitionCount of partitionCounts) {
    for (const nodeCount of [5, 8, 10, 16, 32, 64]) {
      rows.push(balanceRow(nodeCount, partitionCount, hashes));
    }
  }
  console.log(`\nBalance over ${KEY_COUNT.toLocaleString('en-US')} keys (key-i), N = 3`);
  console.table(rows);
}

function movement(before: Ring, after: Ring, hashes: Uint32Array) {
  let primaryMoved = 0;
  let replicaSetChanged = 0;
  for (const hash of hashes) {
    const listBefore = before.preferenceListForPartition(before.partitionOfHash(hash), 3);
    const listAfter = after.preferenceListForPartition(after.partitionOfHash(hash), 3);
    if (listBefore[0] !== listAfter[0]) primaryMoved++;
    if (!listBefore.every((id) => listAfter.includes(id))) replicaSetChanged++;
  }
  return {
    primary: round3(primaryMoved / hashes.length),
    replicaSet: round3(replicaSetChanged / hashes.length),
  };
}

function movementTable(partitionCounts: readonly number[], hashes: Uint32Array): void {
  const rows = [];
  for (const partitionCount of partitionCounts) {
    const ring = Ring.create(ids(10), partitionCount);
    const joined = ring.withNode(nodeId('n11'));
    const left = ring.withoutNode(nodeId('n4'));
    const rejoined = left.withNode(nodeId('n11'));
    const cases = [
      ['10 -> 11 (withNode n11)', ring, joined, 1 / 11],
      ['10 -> 9 (withoutNode n4)', ring, left, 1 / 10],
      ['11 -> 10 (withoutNode n11)', joined, joined.withoutNode(nodeId('n11')), 1 / 11],
      ['9 -> 10 (withNode n11)', left, rejoined, 1 / 10],
    ] as const;
    for (const [change, before, after, ideal] of cases) {
      const moved = movement(before, after, hashes);
      rows.push({
        Q: partitionCount,
        change,
        'ideal primary': round3(ideal),
        'primary moved': moved.primary,
        'replica set changed': moved.replicaSet,
      });
    }
  }
  console.log('\nMovement (fraction of keys); join goal: primary <= 1.2/11 = 0.109');
  console.table(rows);
}

async function main(): Promise<void> {
  const hashes = Uint32Array.from({ length: KEY_COUNT }, (_, i) => hashKey(`key-${i}`));
  const partitionCounts = [...new Set([partitionCountDefault, 256])];
  await benchLookups(partitionCountDefault);
  balanceTable(partitionCounts, hashes);
  movementTable(partitionCounts, hashes);
}

await main();
