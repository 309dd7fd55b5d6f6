/**
 * Swarm testing (TigerBeetle's VOPR): the seed's Prng picks the whole scenario — cluster size,
 * N/R/W, keys and clients, workload mix, network latency distribution, loss and duplication,
 * which node faults happen and how often, clock skew, and the length of the safety phase; and,
 * from a stream of its own, whether a membership change runs (change-plan.ts). A scenario is
 * plain data, so a report can print it and a test can pin one down.
 */
import { coreLimits, DEFAULT_CONFIG } from '../config.js';
import { type Dist, meanOf } from '../util/distributions.js';
import type { Prng } from '../util/prng.js';
import { SIM_DEFAULTS } from './defaults.js';
import type { FaultOptions } from './faults.js';
import type { ChangePlan } from './ring-changer.js';
import type { SimOptions } from './simulator.js';
import type { TtlPlan, WorkloadOptions } from './workload.js';

export interface Scenario {
  readonly sim: SimOptions;
  readonly workload: WorkloadOptions;
  readonly faults: FaultOptions;
  /** Timer rate per node (clock skew); all 1 without skew. */
  readonly timerRates: readonly number[];
  /** Virtual duration of the safety phase (workload with faults). */
  readonly safetyMs: number;
  /** A membership change during the safety phase (change-plan.ts); absent: none. */
  readonly change?: ChangePlan;
  /** TTL writes and wall-clock offsets (ttl-plan.ts); absent: no TTLs, clocks agree. */
  readonly ttl?: TtlPlan;
}

const expMean = (meanMs: number): Dist => ({ exp: { rate: 1 / meanMs } });

export function pickLatency(prng: Prng): Dist {
  switch (prng.pick(['constant', 'exp', 'pareto', 'lognormal', 'mix'] as const)) {
    case 'constant':
      return { constant: prng.int(1, 20) };
    case 'exp':
      return expMean(prng.float(1, 30));
    case 'pareto':
      return { pareto: { xm: prng.float(0.5, 5), alpha: prng.float(1.1, 3) } };
    case 'lognormal':
      return { lognormal: { mu: Math.log(prng.float(1, 20)), sigma: prng.float(0.2, 1.2) } };
    case 'mix':
      return {
        mix: [
          { weight: 9, dist: expMean(prng.float(1, 5)) },
          { weight: 1, dist: expMean(prng.float(50, 300)) },
        ],
      };
  }
}

/** Longest a message may take when the grace period allows it. */
const LATENCY_MS_MAX = 5_000;

/**
 * The longest message delay a scenario may draw: below half the tombstone grace period. The
 * reaper's check cannot see a message already in flight, so the design requires the grace to
 * exceed the longest delay (reaper.ts); a scenario breaking that precondition reports a
 * resurrection the protocol never promised to prevent (seed 1200872 with --membership always:
 * a replica-put delayed 4.96 s reached a stand-in after its key was deleted and reaped with a
 * 1 s grace).
 */
function latencyMsMaxUnder(limits: { readonly tombstoneGraceMs: number }): number {
  return Math.min(LATENCY_MS_MAX, Math.floor(limits.tombstoneGraceMs / 2));
}

function pickSim(prng: Prng): SimOptions {
  const nodes = prng.int(3, 9);
  const n = prng.int(1, Math.min(5, nodes));
  const latency = pickLatency(prng);
  const lossRate = prng.chance(0.3) ? 0 : prng.float(0, 0.2);
  const duplicateRate = prng.chance(0.5) ? 0 : prng.float(0, 0.1);
  const timeoutFloorMs = Math.ceil(6 * Math.min(meanOf(latency), 100) + 20);
  const limits = {
    ...coreLimits(DEFAULT_CONFIG),
    inFlightMax: prng.chance(0.1) ? prng.int(2, 20) : DEFAULT_CONFIG.inFlightMax,
    tickIntervalMs: prng.pick([100, 250, 1000]),
    tombstoneGraceMs: prng.pick([1_000, 5_000, 30_000]),
    // Asking every replica (0), speculating nearly always (2), or as configured by default.
    readSpeculateMs: prng.pick([0, 2, DEFAULT_CONFIG.readSpeculateMs, 100]),
  };
  return {
    ...SIM_DEFAULTS,
    nodes,
    n,
    r: prng.int(1, n),
    w: prng.int(1, n),
    partitionCount: prng.pick([16, 64, 256]),
    requestTimeoutMs: Math.max(timeoutFloorMs, prng.pick([100, 250, 500, 1000])),
    clientTimeoutSlackMs: prng.pick([50, 200, 1000]),
    network: { lossRate, duplicateRate, latency, latencyMsMax: latencyMsMaxUnder(limits) },
    diskLatency: expMean(prng.float(0.1, 5)),
    detectionDelay: expMean(prng.float(10, 500)),
    tunables: { forwardSlackMs: prng.pick([50, 100, 500]), limits },
  };
}

function pickWorkload(prng: Prng): WorkloadOptions {
  const keyCount = prng.int(1, 12);
  return {
    keys: Array.from({ length: keyCount }, (_, i) => `k${i}`),
    clients: prng.int(1, 6),
    mix: {
      readModifyWrite: prng.float(0.2, 1),
      blindPut: prng.float(0, 1),
      deleteWithContext: prng.float(0, 0.6),
      staleWrite: prng.float(0, 0.4),
      read: prng.float(0, 0.5),
    },
    thinkTime: expMean(prng.float(5, 100)),
    hotKeyRate: prng.float(0, 0.5),
  };
}

function pickFaults(prng: Prng, nodes: number, w: number): FaultOptions {
  const crashes = prng.chance(0.6);
  return {
    crashes,
    partitions: prng.chance(0.6),
    pauses: prng.chance(0.4),
    intervalMs: expMean(prng.float(200, 3_000)),
    downMax: prng.int(1, nodes),
    wipesMax: crashes && w >= 2 && prng.chance(0.3) ? w - 1 : 0,
  };
}

/** The whole scenario of one seed. */
export function pickScenario(prng: Prng): Scenario {
  const sim = pickSim(prng);
  const workload = pickWorkload(prng);
  const faults = pickFaults(prng, sim.nodes, sim.w);
  const skew = prng.chance(0.5);
  const timerRates = Array.from({ length: sim.nodes }, () => (skew ? prng.float(0.9, 1.1) : 1));
  return { sim, workload, faults, timerRates, safetyMs: prng.int(2_000, 15_000) };
}
