/**
 * The simulator's view of the ring: which ring state each node has adopted, learned from what it
 * persists (a node writes meta `ringState` whenever it adopts a newer state, and starts from its
 * boot state or that entry), and the newest state any node holds — the ring the simulated
 * clients route by and, once a run has settled, the committed ring the checks use.
 *
 * It also tells a drain from a reap: a node that removes a key it does not replicate under the
 * state it adopted is handing the key over (a membership change), not reaping a tombstone.
 */
import { RING_META } from '../core/node.js';
import { Ring } from '../core/ring.js';
import {
  initialRingState,
  isRingState,
  type RingState,
  supersedesRing,
} from '../core/ring-state.js';
import type { NodeId } from '../core/types.js';

interface Tracked {
  readonly state: RingState;
  readonly owners: Ring;
  readonly next: Ring | null;
}

export class RingTracker {
  private readonly initial: Tracked;
  private readonly boot = new Map<NodeId, Tracked>();
  private readonly adopted = new Map<NodeId, Tracked>();
  private newest: Tracked;
  /** Rings already built, by `version/claimant` (nodes adopt the same states). */
  private readonly cache = new Map<string, Tracked>();

  constructor(
    initialRing: Ring,
    private readonly n: number,
  ) {
    const state = initialRingState(initialRing);
    this.initial = { state, owners: initialRing, next: null };
    this.cache.set(`${state.version}/${state.claimant}`, this.initial);
    this.newest = this.initial;
  }

  /** Starts tracking `node` from the state it boots with (null: the initial ring). */
  track(node: NodeId, bootState: RingState | null): void {
    const boot = bootState === null ? this.initial : this.tracked(bootState);
    this.boot.set(node, boot);
    if (!this.adopted.has(node)) this.adopt(node, boot);
  }

  /** A metadata entry of `node` became durable (undefined: removed, e.g. by a wipe). */
  onMeta(node: NodeId, name: string, value: unknown): void {
    if (name !== RING_META) return;
    const boot = this.boot.get(node) ?? this.initial;
    if (value === undefined) {
      // A wipe: a state only this node held is gone (a change its claimant began and never
      // spread is lost, and the operator must ask again), so the newest is looked for afresh.
      this.adopted.set(node, boot);
      this.newest = this.initial;
      for (const tracked of this.adopted.values()) {
        if (supersedesRing(tracked.state, this.newest.state)) this.newest = tracked;
      }
      return;
    }
    if (!isRingState(value, this.initial.owners.partitionCount)) return;
    const stored = this.tracked(value);
    this.adopt(node, supersedesRing(boot.state, stored.state) ? boot : stored);
  }

  /** The newest ring state any node has adopted. */
  get state(): RingState {
    return this.newest.state;
  }

  /** The ring requests are routed by under the newest state (its `owners`). */
  get ring(): Ring {
    return this.newest.owners;
  }

  /** The state `node` has adopted durably (or boots with). */
  stateOf(node: NodeId): RingState {
    return (this.adopted.get(node) ?? this.initial).state;
  }

  /** Whether `node` keeps `key` as its own data under the state it adopted (current or next ring). */
  replicates(node: NodeId, key: string): boolean {
    const { owners, next } = this.adopted.get(node) ?? this.initial;
    const partition = owners.partitionOf(key);
    if (owners.preferenceListForPartition(partition, this.n).includes(node)) return true;
    return next?.preferenceListForPartition(partition, this.n).includes(node) === true;
  }

  private adopt(node: NodeId, tracked: Tracked): void {
    this.adopted.set(node, tracked);
    if (supersedesRing(tracked.state, this.newest.state)) this.newest = tracked;
  }

  private tracked(state: RingState): Tracked {
    const name = `${state.version}/${state.claimant}`;
    const known = this.cache.get(name);
    if (known !== undefined) return known;
    const tracked: Tracked = {
      state,
      owners: Ring.fromOwners(state.owners),
      next: state.next === null ? null : Ring.fromOwners(state.next),
    };
    this.cache.set(name, tracked);
    return tracked;
  }
}
