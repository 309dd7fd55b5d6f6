/**
 * The simulated network between nodes (the guarantees of the real Transport: lossy, unordered,
 * may duplicate). Per message it decides how many copies arrive and when: a copy is dropped
 * with `lossRate`, a second copy is added with `duplicateRate`, and each copy's delay is drawn
 * from the latency distribution — so reordering falls out of random latency.
 *
 * Partitions are groups: nodes in different groups cannot talk; nodes named in no group share
 * one implicit group. A cut is one-way (`cut(a, b)` stops a → b only). `heal()` removes both.
 * A node's messages to itself never reach the network (NodeCore handles them in the same step).
 */
import { assert } from '../core/assert.js';
import type { NodeId } from '../core/types.js';
import { type Dist, sampleDist } from '../util/distributions.js';
import type { Prng } from '../util/prng.js';

export interface NetworkOptions {
  /** Probability that one copy of a message is lost. */
  readonly lossRate: number;
  /** Probability that a message is delivered twice. */
  readonly duplicateRate: number;
  readonly latency: Dist;
  /** Sampled latencies are clamped to this, so a heavy tail cannot stall a run. */
  readonly latencyMsMax: number;
}

export interface NetworkStats {
  sent: number;
  /** Copies lost to `lossRate`. */
  lost: number;
  /** Extra copies made by `duplicateRate`. */
  duplicated: number;
  /** Messages stopped by a partition or cut, at send or at arrival. */
  blocked: number;
}

/** Group id of nodes not named in any partition group. */
const REST_GROUP = -1;

export class Network {
  private options: NetworkOptions;
  private readonly groupOf = new Map<NodeId, number>();
  private readonly cuts = new Set<string>();
  readonly stats: NetworkStats = { sent: 0, lost: 0, duplicated: 0, blocked: 0 };

  constructor(
    private readonly prng: Prng,
    options: NetworkOptions,
  ) {
    this.options = checkOptions(options);
  }

  get settings(): NetworkOptions {
    return this.options;
  }

  /** Changes loss, duplication or latency from now on (messages in flight keep their delay). */
  configure(changes: Partial<NetworkOptions>): void {
    this.options = checkOptions({ ...this.options, ...changes });
  }

  /** Splits the cluster: nodes in different groups cannot talk (replaces earlier groups). */
  partition(groups: ReadonlyArray<readonly NodeId[]>): void {
    this.groupOf.clear();
    groups.forEach((group, index) => {
      for (const node of group) {
        assert(!this.groupOf.has(node), `node ${node} is in one partition group only`);
        this.groupOf.set(node, index);
      }
    });
  }

  /** Cuts `node` off from everyone else in both directions. */
  isolate(node: NodeId): void {
    this.partition([[node]]);
  }

  /** Stops messages from `from` to `to` (one way). */
  cut(from: NodeId, to: NodeId): void {
    assert(from !== to, 'a node cannot be cut from itself');
    this.cuts.add(`${from}>${to}`);
  }

  /** Removes every partition and cut. */
  heal(): void {
    this.groupOf.clear();
    this.cuts.clear();
  }

  get isPartitioned(): boolean {
    return this.groupOf.size > 0 || this.cuts.size > 0;
  }

  canReach(from: NodeId, to: NodeId): boolean {
    const sameGroup =
      (this.groupOf.get(from) ?? REST_GROUP) === (this.groupOf.get(to) ?? REST_GROUP);
    return sameGroup && !this.cuts.has(`${from}>${to}`);
  }

  /** The delays (ms) of the copies of one message that will arrive; empty when none will. */
  plan(from: NodeId, to: NodeId): number[] {
    assert(from !== to, 'self-sends never reach the network');
    this.stats.sent++;
    if (!this.canReach(from, to)) {
      this.stats.blocked++;
      return [];
    }
    const copies = this.prng.chance(this.options.duplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) {
      if (this.prng.chance(this.options.lossRate)) this.stats.lost++;
      else delays.push(this.latencyMs());
    }
    return delays;
  }

  /** One latency sample, clamped to [0, latencyMsMax]. */
  latencyMs(): number {
    const sample = sampleDist(this.options.latency, this.prng);
    return Math.min(Math.max(sample, 0), this.options.latencyMsMax);
  }
}

function checkOptions(options: NetworkOptions): NetworkOptions {
  assert(options.lossRate >= 0 && options.lossRate <= 1, 'lossRate is a probability');
  assert(
    options.duplicateRate >= 0 && options.duplicateRate <= 1,
    'duplicateRate is a probability',
  );
  assert(options.latencyMsMax >= 0, 'latencyMsMax is not negative');
  return options;
}
