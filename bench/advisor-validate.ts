/**
 * Does the staleness advisor predict what a real cluster does? Starts an in-memory worker-thread
 * cluster (N=3, one extra node to coordinate reads), injects delays with the `net` controls
 * (delay + jitter on every message) and optionally a slow-disk-like extra delay on every write
 * ack, then runs R=W=1 traffic: each trial writes a fresh key (coordinated by its first replica,
 * as the client routes it), and once the write is acknowledged reads it back with R=1 through
 * the node outside its replica set. The matrix benchmark's checker (src/bench/matrix-stale.ts)
 * judges each read. Afterwards the advisor's answer, fitted to the histograms the nodes measured
 * during that same traffic, is compared with the measured stale rate.
 *
 *   node --import tsx bench/advisor-validate.ts            # the configurations of the report
 *
 * The test test/integration/server/advisor-validate.test.ts runs one small configuration.
 */
import { AckedWrites, decodeValueId, encodeValue, isStaleRead } from '../src/bench/matrix-stale.js';
import { fitWars, mergeLatencies } from '../src/bench/wars-fit.js';
import { ADVISOR_SEED, ADVISOR_TRIALS } from '../src/config.js';
import { Ring } from '../src/core/ring.js';
import { nodeId } from '../src/core/types.js';
import { startCluster } from '../src/index.js';
import { Advisor } from '../src/server/monitor/advisor.js';
import { SnapshotTaker } from '../src/server/monitor/cluster-snapshot.js';
import type { Dist } from '../src/util/distributions.js';

export interface ValidationPlan {
  readonly name: string;
  readonly delayMs: number;
  readonly jitterMs: number;
  /** Extra delay of every `replica-put-ack` (a slow disk before the ack); null: none. */
  readonly ackDelay: Dist | null;
  readonly trials: number;
  readonly concurrency: number;
  readonly seed: number;
  /** The writes' W (reads are R=1). @default 1 */
  readonly w?: number;
  /**
   * Worker threads the nodes share (config nodeThreads). By default a thread each: the model
   * takes every message's delay as independent, as on separate machines. With all four nodes on
   * one thread, injected delays expire together in one event loop's timer pass, and the measured
   * stale rate came out 4.4–6.3 points under the prediction in 3 of 3 runs (a thread each:
   * 0.7–2.5 points either way). @default N + 1
   */
  readonly nodeThreads?: number;
}

export interface ValidationResult {
  readonly plan: ValidationPlan;
  readonly reads: number;
  readonly stale: number;
  readonly failures: number;
  readonly measuredStaleRate: number;
  /** 1 − the advisor's P(consistent at t = 0) for R = 1 and the plan's W. */
  readonly predictedStaleRate: number;
  /** 1 − the model's P(consistent at t) averaged over the measured commit-to-read gaps. */
  readonly predictedStaleRateAtGap: number;
  /** Median of those gaps (the W=1 put's round trip seen from this client), ms. */
  readonly gapMedianMs: number;
  /** What the advisor saw, class by class (p50 / p99 ms). */
  readonly classes: Record<string, { p50Ms: number | null; p99Ms: number | null }>;
}

const N = 3;
/**
 * The cluster's readSpeculateMs, and the model's: every replica asked at once. With targeted
 * reads an R=1 read through a non-replica asks the writer first and is almost never stale,
 * which would leave little to validate. The advisor reads it from the cluster's /status.
 */
const READ_SPECULATE_MS = 0;

export async function validate(plan: ValidationPlan): Promise<ValidationResult> {
  const db = await startCluster({
    nodes: N + 1,
    n: N,
    r: 1,
    w: 1,
    dataDir: null,
    requestTimeoutMs: 5_000,
    retryAttemptsMax: 1,
    // Only the quorum protocol spreads a write, as in the model.
    antiEntropyIntervalMs: 3_600_000,
    readSpeculateMs: READ_SPECULATE_MS,
    nodeThreads: plan.nodeThreads ?? N + 1,
  });
  try {
    await db.setNetwork({ delayMs: plan.delayMs, jitterMs: plan.jitterMs });
    if (plan.ackDelay !== null) {
      await db.setMessageDelays({ 'replica-put-ack': plan.ackDelay }, plan.seed);
    }
    const status = await db.status();
    const ring = Ring.fromOwners(status.ring.owners.map(nodeId));
    const acked = new AckedWrites(plan.trials);
    const run = `v${plan.seed}-${Date.now().toString(36)}`;
    let next = 0;
    let reads = 0;
    let stale = 0;
    let failures = 0;
    const w = plan.w ?? 1;
    const gapsMs: number[] = [];
    const lane = async () => {
      while (next < plan.trials) {
        const index = next++;
        const key = `advise-${run}-${index}`;
        const reader = db.nodeIds.find((id) => !ring.preferenceList(key, N).includes(id as never));
        try {
          const startMs = performance.now();
          if (w > 1) {
            // The gap estimate is a W=1 put's round trip (see below): take one on a scratch key.
            await db.put(`${key}-gap`, encodeValue(index, 16), { w: 1 });
            gapsMs.push(performance.now() - startMs);
          }
          await db.put(key, encodeValue(index, 16), { w });
          if (w === 1) gapsMs.push(performance.now() - startMs);
          acked.ack(index, index);
          const expected = acked.expected(index);
          const got = await db.get(key, { r: 1, ...(reader ? { coordinator: reader } : {}) });
          const ids = got.values.map(decodeValueId).filter((id): id is number => id !== null);
          reads++;
          if (isStaleRead(expected, ids)) stale++;
        } catch {
          failures++;
        }
      }
    };
    await Promise.all(Array.from({ length: plan.concurrency }, lane));
    const advisor = new Advisor(new SnapshotTaker(db, db, 5_000), { cacheMs: 0 });
    const answer = await advisor.answer();
    const row = answer.rows?.find((x) => x.r === 1 && x.w === w);
    if (row === undefined) throw new Error(`the advisor did not answer: ${answer.reason}`);
    const classes: ValidationResult['classes'] = {};
    for (const [name, c] of Object.entries(answer.classes)) {
      classes[name] = { p50Ms: c.p50Ms, p99Ms: c.p99Ms };
    }
    // The read is issued at its coordinator some time after the write's commit: the ack's way
    // back to this client and the read's way to the reader node. Both are runtime hops the
    // model does not see; the W=1 put's round trip from here measures them (an overestimate by
    // the coordinator's own persist). The prediction is P(consistent) averaged over those gaps.
    const snapshot = await new SnapshotTaker(db, db, 5_000).take();
    const measured = [...snapshot.counters.values()]
      .map((stats) => stats?.latency ?? null)
      .filter((x) => x !== null);
    const grid = Array.from({ length: 201 }, (_, i) => i * 0.05);
    const fitted = fitWars(mergeLatencies(measured), {
      n: N,
      trials: ADVISOR_TRIALS,
      seed: ADVISOR_SEED,
      tMs: grid,
      readSpeculateMs: READ_SPECULATE_MS,
    }).find((x) => x.r === 1 && x.w === w)!;
    const pAt = (gap: number) =>
      fitted.consistency[Math.min(grid.length - 1, Math.round(gap / 0.05))]![1];
    const predictedAtGap = gapsMs.reduce((sum, gap) => sum + (1 - pAt(gap)), 0) / gapsMs.length;
    const sortedGaps = [...gapsMs].sort((x, y) => x - y);
    return {
      plan,
      reads,
      stale,
      failures,
      measuredStaleRate: reads === 0 ? Number.NaN : stale / reads,
      predictedStaleRate: 1 - row.consistency[0]![1],
      predictedStaleRateAtGap: predictedAtGap,
      gapMedianMs: sortedGaps[Math.floor(sortedGaps.length / 2)] ?? Number.NaN,
      classes,
    };
  } finally {
    await db.close();
  }
}

/** The configurations of the report. */
export const PLANS: readonly ValidationPlan[] = [
  {
    name: 'delay 5ms jitter 3ms',
    delayMs: 5,
    jitterMs: 3,
    ackDelay: null,
    trials: 2000,
    concurrency: 4,
    seed: 1,
  },
  {
    name: 'delay 5ms jitter 3ms + disk ack (lognormal, median 8ms)',
    delayMs: 5,
    jitterMs: 3,
    ackDelay: { lognormal: { mu: Math.log(8), sigma: 0.6 } },
    trials: 2000,
    concurrency: 4,
    seed: 2,
  },
  {
    name: 'delay 2ms jitter 10ms',
    delayMs: 2,
    jitterMs: 10,
    ackDelay: null,
    trials: 2000,
    concurrency: 4,
    seed: 3,
  },
  {
    name: 'delay 1ms jitter 1ms + disk ack (exp, mean 5ms)',
    delayMs: 1,
    jitterMs: 1,
    ackDelay: { exp: { rate: 0.2 } },
    trials: 2000,
    concurrency: 4,
    seed: 4,
  },
  {
    name: 'R=1 W=2, delay 5ms jitter 3ms + disk ack (lognormal, median 8ms)',
    delayMs: 5,
    jitterMs: 3,
    ackDelay: { lognormal: { mu: Math.log(8), sigma: 0.6 } },
    trials: 1500,
    concurrency: 4,
    seed: 6,
    w: 2,
  },
];

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

async function main(): Promise<void> {
  const lines = [
    '| configuration | reads | gap p50 (ms) | measured stale | predicted at t=0 | predicted at the gaps | difference (pp) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const plan of PLANS) {
    const result = await validate(plan);
    const diff = 100 * (result.predictedStaleRateAtGap - result.measuredStaleRate);
    lines.push(
      `| ${plan.name} | ${result.reads} | ${result.gapMedianMs.toFixed(2)} | ${pct(result.measuredStaleRate)} | ` +
        `${pct(result.predictedStaleRate)} | ${pct(result.predictedStaleRateAtGap)} | ${diff.toFixed(1)} |`,
    );
    process.stderr.write(
      `${plan.name}: ${JSON.stringify(result.classes)} failures=${result.failures}\n`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1]?.endsWith('advisor-validate.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  });
}
