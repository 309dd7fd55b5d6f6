/**
 * `npm run bench`: put and get throughput and latency through the embedded API on a local
 * worker-thread cluster, and — in the same run, on the same machine — the raw MessageChannel
 * message rate of a mesh of as many workers, so the ratio ops/s ÷ (msgs/s ÷ msgs per op) shows
 * how close the protocol gets to the transport's ceiling.
 *
 * The ceiling is measured at 16 and at 64 messages per post (the per-post cost dominates small
 * messages, so it depends on the batch size); the table also shows how many messages the
 * cluster's own peer transport put in one post during the run.
 *
 * Options: --nodes 5 --n 3 --r 2 --w 2 --value-size 1024 --seconds 5 --concurrency 256 --keys 10000
 *          --node-threads 0 (0: one per node up to cores − 1)
 *          --runtime threads|processes (processes: each node a `ringkv node` child over TCP + mTLS;
 *          the ceiling printed is still the MessageChannel one: see `npm run bench:transport`)
 */

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { Cluster } from '../src/client/types.js';
import { nodeThreadsFor } from '../src/config.js';
import { compiledRingkv } from './compiled-ringkv.js';

const { ringkv, from } = await compiledRingkv();
const { startCluster } = ringkv;

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    n: { type: 'string', default: '3' },
    r: { type: 'string', default: '2' },
    w: { type: 'string', default: '2' },
    'value-size': { type: 'string', default: '1024' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '256' },
    keys: { type: 'string', default: '10000' },
    runtime: { type: 'string', default: 'threads' },
    'node-threads': { type: 'string', default: '0' },
  },
});
const nodes = Number(args.nodes);
const n = Number(args.n);
const r = Number(args.r);
const w = Number(args.w);
const valueBytes = Number(args['value-size']);
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const keyCount = Number(args.keys);
if (args.runtime !== 'threads' && args.runtime !== 'processes') {
  throw new Error(`--runtime must be threads or processes, got ${args.runtime}`);
}
const runtime: 'threads' | 'processes' = args.runtime;
/** Worker threads the nodes share (config nodeThreads; 0: one per node up to cores − 1). */
const nodeThreads = Number(args['node-threads']);

interface Run {
  readonly ops: number;
  readonly errors: number;
  readonly opsPerSec: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU time of the whole process (every thread) per op, in µs. */
  readonly cpuUsPerOp: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A closed loop: `concurrency` callers each issue ops back to back for `seconds`. */
async function closedLoop(op: (i: number) => Promise<unknown>): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const deadline = performance.now() + seconds * 1000;
  const caller = async () => {
    while (performance.now() < deadline) {
      const i = counter++;
      const start = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - start);
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, caller));
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    ops: latencies.length,
    errors,
    opsPerSec: latencies.length / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    cpuUsPerOp: (cpu.user + cpu.system) / latencies.length,
  };
}

/** Peer messages per post, summed over the nodes' transports (messages sent ÷ posts). */
async function messagesPerPost(db: Cluster): Promise<{ sent: number; batches: number }> {
  const counters = await db.nodeStats();
  let sent = 0;
  let batches = 0;
  for (const { stats } of counters) {
    sent += stats?.transport.sent ?? 0;
    batches += stats?.transport.batches ?? 0;
  }
  return { sent, batches };
}

interface Phase extends Run {
  /** Peer messages per post during the phase. */
  readonly perPost: number;
  /** Peer messages the nodes sent per operation during the phase (background traffic included). */
  readonly peerMsgsPerOp: number;
}

async function measured(db: Cluster, op: (i: number) => Promise<unknown>): Promise<Phase> {
  const before = await messagesPerPost(db);
  const run = await closedLoop(op);
  const after = await messagesPerPost(db);
  const sent = after.sent - before.sent;
  return {
    ...run,
    perPost: sent / (after.batches - before.batches),
    peerMsgsPerOp: sent / run.ops,
  };
}

async function benchCluster(): Promise<{ put: Phase; get: Phase }> {
  const db: Cluster = await startCluster({ nodes, nodeThreads, n, r, w }, { runtime });
  try {
    const value = new Uint8Array(valueBytes).fill(7);
    const key = (i: number) => `bench-${i % keyCount}`;
    // Writing every key once warms the JIT in every worker and makes the gets find values.
    for (let i = 0; i < keyCount; i += concurrency) {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, keyCount - i) }, (_, j) =>
          db.put(key(i + j), value),
        ),
      );
    }
    // Each put writes a fresh key: blind writes to existing keys would pile up siblings, and
    // the phase would measure sibling growth (every put ships and merges all of them).
    const put = await measured(db, (i) => db.put(`bench-put-${i}`, value));
    const get = await measured(db, (i) => db.get(key(i)));
    return { put, get };
  } finally {
    await db.close();
  }
}

/** The raw mesh: every worker floods every peer with batched messages for `seconds`. */
async function benchMesh(batchSize: number): Promise<{ rate: number; cpuUsPerMsg: number }> {
  const script = new URL('./mesh-worker.mjs', import.meta.url);
  const workers = Array.from(
    { length: nodes },
    (_, i) => new Worker(script, { workerData: { batchSize, valueBytes, id: `n${i + 1}` } }),
  );
  await Promise.all(workers.map((wk) => new Promise((res) => wk.once('message', res))));
  workers.forEach((a, i) => {
    for (const b of workers.slice(i + 1)) {
      const { port1, port2 } = new MessageChannel();
      a.postMessage({ type: 'connect', port: port1 }, [port1]);
      b.postMessage({ type: 'connect', port: port2 }, [port2]);
    }
  });
  for (const wk of workers) wk.postMessage({ type: 'start' });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await new Promise((res) => setTimeout(res, seconds * 1000));
  const counts = workers.map(
    (wk) =>
      new Promise<number>((res) =>
        wk.on('message', (m: { type: string; received: number }) => {
          if (m.type === 'count') res(m.received);
        }),
      ),
  );
  for (const wk of workers) wk.postMessage({ type: 'stop' });
  const received = (await Promise.all(counts)).reduce((a, b) => a + b, 0);
  const cpu = process.cpuUsage(cpuBefore);
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(workers.map((wk) => wk.terminate()));
  return { rate: received / elapsed, cpuUsPerMsg: (cpu.user + cpu.system) / received };
}

/** How many worker threads the nodes share in this run (config nodeThreadsFor). */
function threadsLabel(): string {
  if (runtime === 'processes') return 'one process each';
  const threads = nodeThreadsFor({ nodes, nodeThreads }, availableParallelism());
  return `${threads} thread${threads === 1 ? '' : 's'}`;
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits });

async function main(): Promise<void> {
  console.log(
    `ringkv bench: ${nodes} nodes on ${threadsLabel()}, N=${n} R=${r} W=${w}, ${valueBytes} B values, ` +
      `${concurrency} concurrent callers, ${seconds} s per phase, ${keyCount} keys; ringkv from ${from}`,
  );
  const { put, get } = await benchCluster();
  const mesh16 = await benchMesh(16);
  const mesh64 = await benchMesh(64);
  const meshRate = mesh16.rate;
  // Messages per operation, as measured: the peer messages the nodes sent (a put: a request and
  // an ack per remote replica, 2(N-1); a get asks only R replicas, 2(R-1) when its coordinator
  // is one, more when it speculates), plus the client's request to the coordinator and its reply.
  const rows = [
    { phase: 'put', run: put },
    { phase: 'get', run: get },
  ].map(({ phase, run }) => {
    const msgsPerOp = Number((run.peerMsgsPerOp + 2).toFixed(2));
    const ceiling = meshRate / msgsPerOp;
    return {
      phase,
      'ops/s': fmt(run.opsPerSec),
      'p50 ms': fmt(run.p50, 2),
      'p99 ms': fmt(run.p99, 2),
      errors: run.errors,
      'msgs/op': msgsPerOp,
      'ceiling ops/s': fmt(ceiling),
      'of ceiling': `${fmt((100 * run.opsPerSec) / ceiling, 1)} %`,
      'of ceiling@64': `${fmt((100 * run.opsPerSec * msgsPerOp) / mesh64.rate, 1)} %`,
      'CPU µs/op': fmt(run.cpuUsPerOp),
      // Load-proof: the mesh's CPU per message × messages per op, over the op's CPU.
      'of CPU ceiling@64': `${fmt((100 * mesh64.cpuUsPerMsg * msgsPerOp) / run.cpuUsPerOp, 1)} %`,
      'peer msgs/post': fmt(run.perPost, 1),
    };
  });
  console.table(rows);
  console.log(
    `raw MessageChannel mesh (${nodes} workers): ${fmt(mesh16.rate)} msgs/s ` +
      `(${fmt(mesh16.cpuUsPerMsg, 2)} CPU µs/msg) at 16 msgs per post, ` +
      `${fmt(mesh64.rate)} msgs/s (${fmt(mesh64.cpuUsPerMsg, 2)} CPU µs/msg) at 64`,
  );
}

await main();
