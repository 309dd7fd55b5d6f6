/**
 * One swarm run: `runSeed(seed)` lets the seed's Prng pick a scenario, runs the workload with
 * faults (and maybe one membership change) for the safety phase, runs the liveness phase, and
 * checks the history against the final state and ring, and the ring itself (ring-check.ts).
 * Everything but the optional wall clock is a function of the seed and the modes (SwarmModes).
 */

import { Prng } from '../util/prng.js';
import { changePrng, type MembershipMode, withChange } from './change-plan.js';
import { check, type Violation } from './checker.js';
import { FaultInjector } from './faults.js';
import { type LivenessReport, runLiveness } from './liveness.js';
import { RingChanger } from './ring-changer.js';
import { checkRing } from './ring-check.js';
import { pickScenario, type Scenario } from './scenario.js';
import { SIM_WALL_EPOCH_MS } from './sim-node.js';
import { SimBudgetError, Simulator, type Tracer } from './simulator.js';
import { clockSkewMs, type TtlMode, ttlPrng, withTtl } from './ttl-plan.js';
import { Workload } from './workload.js';

export interface RunOptions {
  /** A wall clock in ms for the report (the simulation never reads it). */
  readonly clock?: () => number;
  /** Adjusts the picked scenario (tests shorten runs this way). */
  readonly tweak?: (scenario: Scenario) => Scenario;
  /** Virtual time the liveness phase may take. @default 60_000 */
  readonly livenessMsMax?: number;
  /** Read every key in the liveness phase (read repair, reaping). Off: anti-entropy alone. @default true */
  readonly livenessProbes?: boolean;
  /** Keep the serialized history in the report. @default false */
  readonly keepHistory?: boolean;
  /** Follows the run line by line (see Simulator.tracer). */
  readonly tracer?: Tracer;
  /** Membership changes: none, on about half the seeds, or on every seed. @default 'sometimes' */
  readonly membership?: MembershipMode;
  /** TTL writes with skewed wall clocks: none, on about half the seeds, or on every seed. @default 'sometimes' */
  readonly ttl?: TtlMode;
  /**
   * Nodes run gossip membership and SWIM failure detection (SimOptions.gossip), as in
   * production. Off: the simulator's failure detector alone (the mode older seeds were found in).
   * @default true
   */
  readonly gossip?: boolean;
}

/** How a run is made beyond what its seed picks; with the seed, it reproduces the run. */
export interface SwarmModes {
  readonly membership: MembershipMode;
  readonly gossip: boolean;
  /** @default SWARM_MODE_DEFAULTS.ttl */
  readonly ttl?: TtlMode;
}

/** The modes of `runSeed` and `npm run sim` when none are given. */
export const SWARM_MODE_DEFAULTS: Required<SwarmModes> = Object.freeze({
  membership: 'sometimes',
  gossip: true,
  ttl: 'sometimes',
});

/** What the run's membership change did. */
export interface ChangeReport {
  readonly kind: string;
  /** The node that joined, left or was removed (null: the planned time never came). */
  readonly node: string | null;
  readonly plannedAtMs: number;
  readonly acceptedAtMs: number | null;
  readonly attempts: number;
  /** Refusals by error (busy, invalid). */
  readonly refusals: Readonly<Record<string, number>>;
}

export interface OpCounts {
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
  readonly pending: number;
}

export interface RunReport {
  readonly seed: number;
  readonly scenario: Scenario;
  /** Client operations of the safety phase by outcome, and by kind. */
  readonly ops: OpCounts;
  readonly opsByKind: Readonly<Record<'put' | 'delete' | 'get', number>>;
  /** Fault actions by kind (crash, restart, pause, resume, partition, cut, heal). */
  readonly faults: Readonly<Record<string, number>>;
  readonly network: Readonly<{ sent: number; lost: number; duplicated: number; blocked: number }>;
  readonly violations: readonly Violation[];
  /** The membership mode the run was made in (it decides whether the seed has a change). */
  readonly membership: MembershipMode;
  /** Whether the nodes ran gossip membership (RunOptions.gossip). */
  readonly gossip: boolean;
  /** The TTL mode the run was made in (it decides whether the seed writes with TTLs). */
  readonly ttl: TtlMode;
  /** The membership change, when the run made one. */
  readonly change?: ChangeReport;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly events: number;
  readonly history?: string;
}

export const LIVENESS_MS_MAX = 60_000;

function countOps(
  sim: Simulator,
  upToOp: number,
): { ops: OpCounts; opsByKind: RunReport['opsByKind'] } {
  const ops = { ok: 0, fail: 0, unknown: 0, pending: 0 };
  const opsByKind = { put: 0, delete: 0, get: 0 };
  for (const op of sim.history.ops.slice(0, upToOp)) {
    ops[op.outcome]++;
    opsByKind[op.kind]++;
  }
  return { ops, opsByKind };
}

function simulate(
  sim: Simulator,
  scenario: Scenario,
  changer: RingChanger | null,
  options: RunOptions,
  ttlStream: Prng,
): { violations: Violation[]; safetyOps: number } {
  const ttl = scenario.ttl === undefined ? null : { plan: scenario.ttl, prng: ttlStream };
  const workload = new Workload(sim, sim.prng, scenario.workload, ttl);
  scenario.ttl?.clockOffsetsMs.forEach((offset, i) => {
    sim.node(sim.ids[i]!).clockOffsetMs = offset;
  });
  const faults = new FaultInjector(sim, sim.prng, scenario.faults);
  scenario.timerRates.forEach((rate, i) => {
    sim.node(sim.ids[i]!).timerRate = rate;
  });
  workload.start();
  faults.start();
  changer?.start();
  sim.runFor(scenario.safetyMs);
  const stop = () => {
    workload.stop();
    faults.stop();
  };
  const liveness = runLiveness(
    sim,
    stop,
    () => workload.idle,
    options.livenessMsMax ?? LIVENESS_MS_MAX,
    options.livenessProbes ?? true,
    () => changer !== null && !changer.visible,
  );
  const safetyOps = sim.history.ops.filter((op) => op.client !== 'liveness').length;
  const violations: Violation[] = check({
    writes: sim.history.writes(),
    data: sim.dataSnapshot(),
    ring: sim.ring,
    n: sim.options.n,
    reaped: sim.history.reaped(),
    expiry: {
      reads: sim.history.ops,
      wallEpochMs: SIM_WALL_EPOCH_MS,
      endMs: sim.nowMs(),
      skewMs: clockSkewMs(scenario.ttl),
      sweepSlackMs: sweepSlackMs(scenario),
    },
  });
  const change = changer?.change;
  violations.push(...checkRing(sim, change == null ? [] : [change]));
  if (changer !== null && change === null) {
    const message = `the ${changer.plan.kind} planned at ${changer.plan.atMs} ms never started`;
    violations.push({ rule: 'membership', key: '', message, ops: [] });
  }
  violations.push(...livenessViolations(liveness));
  violations.push(...treeViolations(sim));
  return { violations, safetyOps };
}

/**
 * Every running node's Merkle trees against trees rebuilt from its local view. The trees keep
 * no per-key hashes (merkle.ts), so a local write that missed them would leave a bucket out of
 * step for good: anti-entropy would exchange it on every round and repair nothing.
 */
function treeViolations(sim: Simulator): Violation[] {
  return sim.ids.flatMap((id) => {
    const differing = sim.node(id).nodeCore?.treesOutOfStep() ?? [];
    if (differing.length === 0) return [];
    const shown = differing.slice(0, 8).join(', ');
    const message = `${id}: Merkle trees of ${differing.length} partition(s) differ from a rebuild (${shown})`;
    return [{ rule: 'merkle' as const, key: '', message, ops: [] }];
  });
}

/**
 * How long after its deadline a value may still be stored live at the end of a run: the sweep
 * runs every tick (stretched by the timer rate), so two ticks at the slowest rate, plus the
 * clock skew the checker already allows for.
 */
function sweepSlackMs(scenario: Scenario): number {
  const rateMax = Math.max(1, ...scenario.timerRates);
  return Math.ceil(2 * scenario.sim.tunables.limits.tickIntervalMs * rateMax);
}

function livenessViolations(liveness: LivenessReport): Violation[] {
  const violations: Violation[] = [];
  for (const key of liveness.keysUnread) {
    violations.push({
      rule: 'liveness',
      key,
      message: `no r=N read of ${key} succeeded within the liveness budget`,
      ops: [],
    });
  }
  if (liveness.opsUnfinished > 0) {
    const message = `${liveness.opsUnfinished} client operations never finished (a hang)`;
    violations.push({ rule: 'liveness', key: '', message, ops: [] });
  }
  return violations;
}

function changeReport(changer: RingChanger): ChangeReport {
  return {
    kind: changer.plan.kind,
    node: changer.change?.node ?? null,
    plannedAtMs: changer.plan.atMs,
    acceptedAtMs: changer.acceptedAtMs,
    attempts: changer.attempts,
    refusals: Object.fromEntries([...changer.refusals].sort()),
  };
}

/** Core assertions and exceptions, as violations. */
export function coreFaultViolations(sim: Simulator): Violation[] {
  return sim.coreFaults.map((f) => ({
    rule: 'core-fault' as const,
    key: '',
    message: `node ${f.node} threw at ${f.atMs.toFixed(1)} ms: ${f.message}`,
    ops: [],
  }));
}

export function runSeed(seed: number, options: RunOptions = {}): RunReport {
  const wallStartMs = options.clock?.() ?? 0;
  const prng = new Prng(seed);
  const changes = changePrng(seed);
  const membership = options.membership ?? SWARM_MODE_DEFAULTS.membership;
  const gossip = options.gossip ?? SWARM_MODE_DEFAULTS.gossip;
  const ttlMode = options.ttl ?? SWARM_MODE_DEFAULTS.ttl;
  const ttlStream = ttlPrng(seed);
  const picked = withTtl(withChange(pickScenario(prng), changes, membership), ttlStream, ttlMode);
  const scenario = options.tweak === undefined ? picked : options.tweak(picked);
  const sim = new Simulator(gossip ? { ...scenario.sim, gossip: true } : scenario.sim, prng);
  sim.tracer = options.tracer ?? null;
  const changer =
    scenario.change === undefined ? null : new RingChanger(sim, changes, scenario.change);
  let violations: Violation[];
  let safetyOps = sim.history.ops.length;
  try {
    ({ violations, safetyOps } = simulate(sim, scenario, changer, options, ttlStream));
  } catch (error) {
    if (!(error instanceof SimBudgetError)) throw error;
    violations = [{ rule: 'liveness', key: '', message: error.message, ops: [] }];
  }
  violations = [...coreFaultViolations(sim), ...violations];
  return {
    seed,
    scenario,
    ...countOps(sim, safetyOps),
    faults: Object.fromEntries([...sim.faultCounts].sort()),
    network: { ...sim.network.stats },
    violations,
    membership,
    gossip,
    ttl: ttlMode,
    ...(changer === null ? {} : { change: changeReport(changer) }),
    virtualMs: sim.nowMs(),
    wallMs: (options.clock?.() ?? 0) - wallStartMs,
    events: sim.eventsRun,
    ...(options.keepHistory === true ? { history: sim.history.serialize() } : {}),
  };
}
