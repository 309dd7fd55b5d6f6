/**
 * Random faults for the safety phase of a swarm run: at random intervals it picks one feasible
 * action — crash or restart a node, pause or resume one, partition the network into groups, cut
 * one direction between two nodes, or heal — and carries it out through the Simulator, which
 * counts each by kind. Loss, duplication and clock skew are set up front (scenario.ts).
 */
import { assert } from '../core/assert.js';
import type { NodeId } from '../core/types.js';
import { type Dist, sampleDist } from '../util/distributions.js';
import type { Prng } from '../util/prng.js';
import type { Simulator } from './simulator.js';

export interface FaultOptions {
  readonly crashes: boolean;
  readonly partitions: boolean;
  readonly pauses: boolean;
  /** Time between two fault actions. */
  readonly intervalMs: Dist;
  /** Most nodes crashed or paused at once. */
  readonly downMax: number;
  /**
   * Restarts that lose the node's disk (like the in-memory engine), over the whole run. Kept
   * below W so every acknowledged write keeps a durable copy somewhere. @default 0
   */
  readonly wipesMax?: number;
}

interface Action {
  readonly weight: number;
  readonly feasible: boolean;
  readonly run: () => void;
}

export class FaultInjector {
  private running = false;
  private wipesLeft: number;

  constructor(
    private readonly sim: Simulator,
    private readonly prng: Prng,
    private readonly options: FaultOptions,
  ) {
    assert(options.downMax >= 0, 'downMax is not negative');
    this.wipesLeft = options.wipesMax ?? 0;
    assert(this.wipesLeft >= 0, 'wipesMax is not negative');
  }

  get enabled(): boolean {
    const { crashes, partitions, pauses } = this.options;
    return crashes || partitions || pauses;
  }

  start(): void {
    if (!this.enabled) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
  }

  private schedule(): void {
    this.sim.after(sampleDist(this.options.intervalMs, this.prng), () => {
      if (!this.running) return;
      this.act();
      this.schedule();
    });
  }

  private inState(state: 'up' | 'paused' | 'down'): NodeId[] {
    return this.sim.ids.filter((id) => this.sim.node(id).state === state);
  }

  private act(): void {
    const { crashes, partitions, pauses, downMax } = this.options;
    const up = this.inState('up');
    const paused = this.inState('paused');
    const down = this.inState('down');
    const roomToFail = up.length > 0 && paused.length + down.length < downMax;
    const actions: Action[] = [
      { weight: 1, feasible: crashes && roomToFail, run: () => this.sim.crash(this.prng.pick(up)) },
      { weight: 1.5, feasible: down.length > 0, run: () => this.restart(this.prng.pick(down)) },
      { weight: 1, feasible: pauses && roomToFail, run: () => this.sim.pause(this.prng.pick(up)) },
      {
        weight: 1.5,
        feasible: paused.length > 0,
        run: () => this.sim.resume(this.prng.pick(paused)),
      },
      { weight: 1, feasible: partitions, run: () => this.sim.partition(this.randomGroups()) },
      { weight: 0.5, feasible: partitions && this.sim.ids.length > 1, run: () => this.randomCut() },
      { weight: 1.5, feasible: this.sim.network.isPartitioned, run: () => this.sim.heal() },
    ];
    const feasible = actions.filter((a) => a.feasible);
    if (feasible.length === 0) return;
    feasible[this.prng.pickWeighted(feasible.map((a) => a.weight))]!.run();
  }

  private restart(id: NodeId): void {
    const wipe = this.wipesLeft > 0 && this.prng.chance(0.5);
    if (wipe) this.wipesLeft--;
    this.sim.restart(id, { wipe });
  }

  /** Two or three groups of random sizes (one node alone is an isolation). */
  private randomGroups(): NodeId[][] {
    const ids = this.prng.shuffle(this.sim.ids);
    const groupCount = Math.min(ids.length, this.prng.int(2, 3));
    const groups: NodeId[][] = Array.from({ length: groupCount }, () => []);
    ids.forEach((id, i) => {
      const group = i < groupCount ? i : this.prng.int(0, groupCount - 1);
      groups[group]!.push(id);
    });
    return groups;
  }

  private randomCut(): void {
    const [from, to] = this.prng.shuffle(this.sim.ids);
    assert(from !== undefined && to !== undefined, 'a cut needs two nodes');
    this.sim.cut(from, to);
  }
}
