/**
 * End-to-end anti-entropy convergence over the real protocol (NodeCore's ae-* messages), on
 * 1 000 000 keys: two replicas of every key (2 nodes, n = 2, 1024 partitions), the second
 * diverging in k keys (half another version, a quarter missing, a quarter extra). Both nodes then
 * run their anti-entropy ticks (no reads, no hints) until every key agrees.
 *
 * Reports, per k: exchanges (anti-entropy ticks) until converged, the virtual time that takes at
 * the default antiEntropyIntervalMs, the ae-* messages and their msgpackr-encoded bytes, and the
 * wall time the two cores spent. Messages are delivered in-process without a transport, so the
 * figures are protocol cost, not network time.
 *
 *   npm run bench:ae [-- --keys 1000000]
 */
import { pack } from 'msgpackr';
import { DEFAULT_CONFIG } from '../src/config.js';
import type { KeyRecord, NodeId, PersistWrite } from '../src/core/types.js';
import { BATCH_WRITES_MAX, type SimStorage } from '../src/sim/sim-storage.js';
import { TestNet } from '../test/core/harness.js';

const DIVERGENCES = [1, 100, 10_000] as const;
const ROUNDS_MAX = 10_000;

function record(actor: string, counter: number, seed: number): KeyRecord {
  const value = new Uint8Array(100).fill(seed & 0xff);
  return { siblings: [{ dot: [actor, counter], past: [], value }] };
}

function keyCountArg(): number {
  const i = process.argv.indexOf('--keys');
  return i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
}

/** Applies `writes` to `store` in batches no larger than a persist may be. */
function applyAll(store: SimStorage, writes: readonly PersistWrite[]): void {
  for (let i = 0; i < writes.length; i += BATCH_WRITES_MAX) {
    store.apply(writes.slice(i, i + BATCH_WRITES_MAX));
  }
}

/** Fills both stores with the same keys, then makes the second one differ in k keys. */
function fill(a: SimStorage, b: SimStorage, keys: number, k: number): void {
  const same: PersistWrite[] = [];
  for (let i = 0; i < keys; i++) {
    same.push({ ns: 'data', key: `user:${i}`, record: record('n1.a', i + 1, i) });
  }
  applyAll(a, same);
  applyAll(b, same);
  const differ: PersistWrite[] = [];
  for (let j = 0; j < k; j++) {
    const key = `user:${Math.floor((j * keys) / k)}`;
    const kind = j % 4;
    if (kind < 2) differ.push({ ns: 'data', key, record: record('n2.a', j + 1, j + 7) });
    else if (kind === 2) differ.push({ ns: 'data', key, record: null });
    else differ.push({ ns: 'data', key: `extra:${j}`, record: record('n2.a', k + j + 1, j) });
  }
  applyAll(b, differ);
}

function converged(a: SimStorage, b: SimStorage): boolean {
  if (a.count() !== b.count()) return false;
  for (const [key, ra] of a.entries()) {
    const rb = b.get(key);
    if (rb === undefined || ra.siblings.length !== rb.siblings.length) return false;
    const dots = new Set(ra.siblings.map((s) => `${s.dot[0]}:${s.dot[1]}`));
    if (!rb.siblings.every((s) => dots.has(`${s.dot[0]}:${s.dot[1]}`))) return false;
  }
  return true;
}

interface Traffic {
  messages: number;
  bytes: number;
}

/** Delivers everything queued, counting ae-* messages and their encoded size. */
function settle(net: TestNet, traffic: Traffic): void {
  for (;;) {
    const next = net.inflight[0] as { message: { type?: string } } | undefined;
    if (next?.message.type?.startsWith('ae-')) {
      traffic.messages++;
      traffic.bytes += pack(next.message).length;
    }
    if (!net.deliverOne() && !net.persistOne()) return;
  }
}

function run(keys: number, k: number): void {
  const net = new TestNet(2, 2, 1024);
  const [a, b] = net.ids.map((id) => net.stores.get(id)!) as [SimStorage, SimStorage];
  fill(a, b, keys, k);
  for (const id of net.ids) net.restart(id as NodeId); // builds the Merkle trees from the data
  for (const id of net.ids) net.input(id, { kind: 'start' });
  const traffic: Traffic = { messages: 0, bytes: 0 };
  let wallMs = 0;
  let rounds = 0;
  while (!converged(a, b) && rounds < ROUNDS_MAX) {
    rounds++;
    const started = performance.now();
    net.fireTimers();
    settle(net, traffic);
    wallMs += performance.now() - started;
  }
  const virtualS = (rounds * DEFAULT_CONFIG.antiEntropyIntervalMs) / 1000;
  const kib = (traffic.bytes / 1024).toFixed(1);
  console.log(
    `| ${k} | ${rounds} | ${virtualS} s | ${traffic.messages} | ${kib} KiB | ${wallMs.toFixed(0)} ms |`,
  );
}

const keys = keyCountArg();
console.log(`anti-entropy convergence, ${keys} keys, 2 replicas, 1024 partitions`);
console.log('| k | exchange rounds | at default interval | ae messages | bytes | core wall time |');
console.log('|---|---|---|---|---|---|');
for (const k of DIVERGENCES) run(keys, k);
