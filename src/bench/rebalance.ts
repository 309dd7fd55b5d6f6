/**
 * `npm run bench:rebalance`: what a membership change costs on a loaded worker-thread cluster.
 * Preloads keys, warms up, measures a mixed load (half gets, half read-modify-write updates) for
 * a few seconds, then adds a node while the same load runs, then removes one the same way, and
 * prints per phase: how long the change took, keys streamed and drained, the fraction of keys
 * whose preference list / primary changed, and ops/s during the change against before.
 *
 * Options: --nodes 5 --n 3 --partitions 1024 --keys 100000 --value-size 1024 --seconds 5
 *          --concurrency 128 --remove n2 [--durable]  (the default engine in a temporary directory)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Cluster, MembershipChangeResult } from '../client/types.js';
import { Ring } from '../core/ring.js';
import { nodeId } from '../core/types.js';
import { startCluster } from '../index.js';
import { type RingMovement, ringMovement } from './ring-movement.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    n: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '1024' },
    keys: { type: 'string', default: '100000' },
    'value-size': { type: 'string', default: '1024' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '128' },
    remove: { type: 'string', default: 'n2' },
    durable: { type: 'boolean', default: false },
  },
});
const settings = {
  nodes: Number(args.nodes),
  n: Number(args.n),
  partitionCount: Number(args.partitions),
  keyCount: Number(args.keys),
  valueBytes: Number(args['value-size']),
  seconds: Number(args.seconds),
  concurrency: Number(args.concurrency),
  remove: args.remove,
  durable: args.durable,
};

/** Ops a load run completed and failed, and over how long. */
interface LoadRun {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
}

interface Phase {
  readonly name: string;
  readonly load: LoadRun;
  readonly change: MembershipChangeResult | null;
  readonly movement: RingMovement | null;
}

/** Unmeasured mixed load before the baseline. */
const WARM_UP_MS = 3000;

const value = new Uint8Array(settings.valueBytes).fill(0x61);
const keyOf = (i: number) => `key-${i}`;

/** Writes every key once, `concurrency` puts at a time. */
async function preload(db: Cluster): Promise<number> {
  const started = performance.now();
  let next = 0;
  const loader = async () => {
    for (let i = next++; i < settings.keyCount; i = next++) await db.put(keyOf(i), value);
  };
  await Promise.all(Array.from({ length: settings.concurrency }, loader));
  return performance.now() - started;
}

/**
 * Runs the mixed load with `concurrency` callers until `until` settles (or, given a number, for
 * that many ms). A caller alternates a get of a random key and an update (get, then put with
 * its context): each get and put counts as one op.
 */
async function load(db: Cluster, until: Promise<unknown> | number): Promise<LoadRun> {
  let stopped = false;
  const stop = typeof until === 'number' ? new Promise((r) => setTimeout(r, until)) : until;
  const done = stop.finally(() => {
    stopped = true;
  });
  let ops = 0;
  let errors = 0;
  const count = async (op: Promise<unknown>) => {
    try {
      await op;
      ops++;
    } catch {
      errors++;
    }
  };
  const caller = async () => {
    for (let round = 0; !stopped; round++) {
      const key = keyOf(Math.floor(Math.random() * settings.keyCount));
      if (round % 2 === 0) {
        await count(db.get(key));
        continue;
      }
      const read = await db.get(key).catch(() => null);
      if (read === null) errors++;
      else ops++;
      await count(db.put(key, value, read === null ? {} : { context: read.context }));
    }
  };
  const started = performance.now();
  await Promise.all([...Array.from({ length: settings.concurrency }, caller), done]);
  return { ops, errors, seconds: (performance.now() - started) / 1000 };
}

async function ringOf(db: Cluster): Promise<Ring> {
  return Ring.fromOwners((await db.status()).ring.owners.map(nodeId));
}

/** Runs `change` under the load; measures how much of the key space it moved. */
async function changePhase(
  db: Cluster,
  name: string,
  change: () => Promise<MembershipChangeResult>,
  keys: readonly string[],
): Promise<Phase> {
  const before = await ringOf(db);
  const running = change();
  const loadRun = await load(db, running);
  const result = await running;
  const movement = ringMovement(before, await ringOf(db), keys, settings.n);
  return { name, load: loadRun, change: result, movement };
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

function printTable(phases: readonly Phase[]): void {
  const baseline = phases[0]!.load;
  const rate = (run: LoadRun) => run.ops / run.seconds;
  const rows = phases.map((phase) => [
    phase.name,
    phase.change === null ? '-' : String(phase.change.ms),
    phase.change === null ? '-' : String(phase.change.keysSent),
    phase.change === null ? '-' : String(phase.change.keysDrained),
    phase.movement === null ? '-' : percent(phase.movement.preferenceChanged),
    phase.movement === null ? '-' : percent(phase.movement.primaryChanged),
    rate(phase.load).toFixed(0),
    percent(rate(phase.load) / rate(baseline)),
    String(phase.load.errors),
  ]);
  const header = [
    'phase',
    'change ms',
    'keys sent',
    'keys drained',
    'prefs changed',
    'primary moved',
    'ops/s',
    'vs before',
    'errors',
  ];
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
}

async function main(): Promise<void> {
  const { nodes, n, partitionCount, keyCount, valueBytes, seconds, concurrency } = settings;
  console.log(
    `rebalance: ${nodes} nodes, N=${n}, ${partitionCount} partitions, ${keyCount} keys of ` +
      `${valueBytes} B, ${concurrency} callers, ${seconds} s baseline ` +
      `(${settings.durable ? 'durable, fsync per write batch' : 'in-memory storage'})`,
  );
  const dataDir = settings.durable ? mkdtempSync(path.join(tmpdir(), 'ringkv-rebalance-')) : null;
  const db = await startCluster({ nodes, n, partitionCount, logLevel: 'error', dataDir });
  try {
    const preloadMs = await preload(db);
    console.log(`preloaded in ${(preloadMs / 1000).toFixed(1)} s`);
    const keys = Array.from({ length: keyCount }, (_, i) => keyOf(i));
    const phases: Phase[] = [];
    await load(db, WARM_UP_MS); // JIT and caches: the baseline should not pay for them
    const baseline = await load(db, seconds * 1000);
    phases.push({ name: 'before', load: baseline, change: null, movement: null });
    phases.push(await changePhase(db, 'join (addNode)', () => db.addNode(), keys));
    const leaver = settings.remove;
    phases.push(await changePhase(db, `leave ${leaver}`, () => db.removeNode(leaver), keys));
    const after = await load(db, seconds * 1000);
    phases.push({ name: 'after', load: after, change: null, movement: null });
    printTable(phases);
  } finally {
    await db.close();
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
