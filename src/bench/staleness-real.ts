/**
 * The staleness benchmark on a real worker-thread cluster (`--mode real`): the profile's four
 * WARS classes are injected as per-message-type delays into every node's MessageChannel
 * transport (Cluster.setMessageDelays), then each trial writes a fresh key, waits t ms after the
 * put's acknowledgement reached the client, and reads the key with R through a node outside its
 * replica set. The read is consistent iff it returns the value just written.
 *
 * Topology: `local-write` (wars.ts) — the put's coordinator is the key's first replica and
 * writes its own copy without a message; the reader's N requests and replies all cross the
 * network, asked as the cluster's `readSpeculateMs` says (the model follows either read path). It
 * needs at least N + 1 nodes.
 *
 * Limits, stated in `--help` too: delays are served by timers on whole milliseconds (a delay
 * is rounded up to the next millisecond tick and the event loop adds its own lateness, ~0.1–2
 * ms), so only millisecond-scale profiles mean anything here; the measured gap between ack and
 * get is reported as `tActualMs`. The client's ack and the get each cross one worker boundary,
 * so t as the replicas see it is a little longer than asked. Anti-entropy is turned off (its
 * interval set to an hour) so that, as in the model, only the quorum protocol spreads a write;
 * client retries are off so a latency is one attempt's. Every node gets a thread of its own
 * (`nodeThreads: nodes`): the model takes each message's delay as independent, as on separate
 * machines, and on a shared thread the injected delays expire together in one timer pass (the
 * advisor's validation measured 4.4–6.3 points less staleness than predicted that way).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../client/types.js';
import { assert } from '../core/assert.js';
import { Ring } from '../core/ring.js';
import { nodeId } from '../core/types.js';
import { startCluster } from '../index.js';
import { type LatencyProfile, messageDelaysOf } from './profile.js';
import type { ConsistencyPoint } from './staleness-result.js';
import { roundMs } from './staleness-stats.js';
import { checkQuorums } from './wars.js';

export interface RealStalenessOptions {
  readonly n: number;
  readonly r: number;
  readonly w: number;
  /** Worker-thread nodes, at least n + 1. @default n + 1 */
  readonly nodes?: number;
  readonly profile: LatencyProfile;
  readonly tMs: readonly number[];
  readonly trialsPerT: number;
  /** Trials in flight at once (each on its own key). @default 8 */
  readonly concurrency?: number;
  /** No new trial starts after this much wall time. @default 60 000 */
  readonly timeLimitMs?: number;
  readonly seed: number;
  /** The cluster's readSpeculateMs: how a get fans out (wars.ts models both paths). @default 0 */
  readonly readSpeculateMs?: number;
  /** Called after every finished trial. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface RealStalenessRun {
  readonly consistency: readonly ConsistencyPoint[];
  readonly readLatencyMs: Float64Array;
  readonly writeLatencyMs: Float64Array;
  readonly failures: number;
  readonly nodes: number;
  /** The time limit stopped the run before every trial ran. */
  readonly truncated: boolean;
}

/** Most trials per t value in real mode. */
export const REAL_TRIALS_MAX = 100_000;
export const CONCURRENCY_MAX = 256;
/** Coordinator timeout in the benchmark cluster: heavy tails must not turn into failures. */
export const REAL_REQUEST_TIMEOUT_MS = 30_000;

interface Tally {
  consistent: number;
  finished: number;
  gapMsSum: number;
}

interface Shared {
  readonly db: Cluster;
  readonly ring: Ring;
  readonly ids: readonly string[];
  readonly options: RealStalenessOptions;
  readonly runId: string;
  readonly tallies: Tally[];
  readonly reads: number[];
  readonly writes: number[];
  failures: number;
}

export async function runRealStaleness(options: RealStalenessOptions): Promise<RealStalenessRun> {
  const { n, r, w, tMs, trialsPerT } = options;
  checkQuorums(n, r, w);
  const nodes = options.nodes ?? n + 1;
  const concurrency = options.concurrency ?? 8;
  const timeLimitMs = options.timeLimitMs ?? 60_000;
  assert(nodes > n, 'a node outside the replica set exists to coordinate reads');
  assert(
    (options.readSpeculateMs ?? 0) < REAL_REQUEST_TIMEOUT_MS,
    'readSpeculateMs is below the request timeout (else gets never speculate)',
  );
  assert(tMs.length > 0, 'at least one t');
  assert(trialsPerT >= 1 && trialsPerT <= REAL_TRIALS_MAX, `trials in 1..${REAL_TRIALS_MAX}`);
  assert(
    concurrency >= 1 && concurrency <= CONCURRENCY_MAX,
    `concurrency in 1..${CONCURRENCY_MAX}`,
  );
  const db = await startCluster({
    nodes,
    nodeThreads: nodes,
    n,
    r,
    w,
    dataDir: null,
    requestTimeoutMs: REAL_REQUEST_TIMEOUT_MS,
    retryAttemptsMax: 1,
    antiEntropyIntervalMs: 3_600_000,
    readSpeculateMs: options.readSpeculateMs ?? 0,
  });
  try {
    await db.setMessageDelays(messageDelaysOf(options.profile), options.seed);
    const status = await db.status();
    const shared: Shared = {
      db,
      ring: Ring.fromOwners(status.ring.owners.map(nodeId)),
      ids: db.nodeIds,
      options,
      runId: `${options.seed}-${Date.now().toString(36)}`,
      tallies: tMs.map(() => ({ consistent: 0, finished: 0, gapMsSum: 0 })),
      reads: [],
      writes: [],
      failures: 0,
    };
    const total = trialsPerT * tMs.length;
    const deadline = performance.now() + timeLimitMs;
    let next = 0;
    let done = 0;
    const lane = async () => {
      while (next < total && performance.now() < deadline) {
        const index = next++;
        await trial(shared, index, index % tMs.length);
        done++;
        options.onProgress?.(done, total);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
    return {
      consistency: tMs.map((t, i) => point(t, shared.tallies[i]!)),
      readLatencyMs: Float64Array.from(shared.reads).sort(),
      writeLatencyMs: Float64Array.from(shared.writes).sort(),
      failures: shared.failures,
      nodes,
      truncated: done < total,
    };
  } finally {
    await db.close();
  }
}

function point(t: number, tally: Tally): ConsistencyPoint {
  const { consistent, finished } = tally;
  return {
    t,
    p: finished === 0 ? 0 : consistent / finished,
    trials: finished,
    tActualMs: finished === 0 ? 0 : roundMs(tally.gapMsSum / finished),
  };
}

/** One write, wait, read; a failed put or get counts as a failure, not as a stale read. */
async function trial(shared: Shared, index: number, tIndex: number): Promise<void> {
  const { db, options } = shared;
  const tMs = options.tMs[tIndex]!;
  const key = `bench-staleness-${shared.runId}-${index}`;
  const value = `v${index}`;
  const replicas: readonly string[] = shared.ring.preferenceList(key, options.n);
  const reader = shared.ids.find((id) => !replicas.includes(id));
  assert(reader !== undefined, 'a node outside the replica set coordinates the read');
  try {
    const started = performance.now();
    await db.put(key, value, { w: options.w });
    const acked = performance.now();
    if (tMs > 0) await sleep(tMs);
    const sent = performance.now();
    const got = await db.get(key, { r: options.r, coordinator: reader });
    const answered = performance.now();
    shared.writes.push(acked - started);
    shared.reads.push(answered - sent);
    const tally = shared.tallies[tIndex]!;
    tally.finished++;
    tally.gapMsSum += sent - acked;
    if (got.strings().includes(value)) tally.consistent++;
  } catch {
    shared.failures++;
  }
}
