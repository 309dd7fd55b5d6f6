/**
 * The ring state a node routes by, and what follows from it for this node: the current ring
 * (`owners`), the ring a running change moves to (`next`), every node taking part, the
 * partitions this node replicates in either, and the running change's moves and senders.
 * Derived once per adopted state (rebalance.ts adopts), read on every request.
 */
import { assert } from './assert.js';
import { Ring } from './ring.js';
import {
  initialRingState,
  isRingState,
  movesOf,
  nodesOf,
  type PartitionMove,
  type RingState,
  sendersOf,
  supersedesRing,
} from './ring-state.js';
import type { NodeId, StorageReader } from './types.js';

/** Meta entry holding the last ring state this node adopted. */
export const RING_META = 'ringState';

export class RingView {
  private current: RingState;
  private nodeList: NodeId[];
  private owners: Ring;
  private nextOwners: Ring | null = null;
  /** Partitions this node replicates in `ring` or `next`. */
  private replicated = new Set<number>();
  private changeMoves: PartitionMove[] = [];
  private changeSenders = new Set<NodeId>();

  constructor(
    state: RingState,
    private readonly self: NodeId,
    private readonly n: number,
  ) {
    assert(n >= 1, 'n is at least 1');
    this.current = state;
    this.nodeList = nodesOf(state);
    this.owners = Ring.fromOwners(state.owners);
    this.derive();
  }

  get state(): RingState {
    return this.current;
  }

  /** Every node taking part in the ring state (owners, next owners, departing). */
  get nodes(): readonly NodeId[] {
    return this.nodeList;
  }

  /** The ring requests are routed by. */
  get ring(): Ring {
    return this.owners;
  }

  /** The ring a running change moves to, or null. */
  get next(): Ring | null {
    return this.nextOwners;
  }

  /** The partitions the running change moves (empty when none runs). */
  get moves(): readonly PartitionMove[] {
    return this.changeMoves;
  }

  get senders(): ReadonlySet<NodeId> {
    return this.changeSenders;
  }

  /** Whether this node keeps partition `p` as its own data (now, or once the change commits). */
  replicatesPartition(p: number): boolean {
    return this.replicated.has(p);
  }

  replicates(key: string): boolean {
    return this.replicated.has(this.owners.partitionOf(key));
  }

  /**
   * Switches to `state`, which must supersede the current one. Returns whether either ring
   * changed or a change is running (false: only the version or the departing list moved, and
   * nothing derived needs rebuilding).
   */
  adopt(state: RingState): boolean {
    assert(supersedesRing(state, this.current), 'a node adopts only a newer ring state');
    const before = this.current;
    this.current = state;
    this.nodeList = nodesOf(state);
    const ownersSame = sameOwners(before.owners, state.owners);
    const nextSame =
      before.next === null
        ? state.next === null
        : state.next !== null && sameOwners(before.next, state.next);
    if (ownersSame && nextSame && before.next === null) return false;
    if (!ownersSame) this.owners = Ring.fromOwners(state.owners);
    this.derive();
    return true;
  }

  /** Recomputes what follows from the rings: the next ring, what this node replicates, the moves. */
  private derive(): void {
    const { next } = this.current;
    this.nextOwners = next === null ? null : Ring.fromOwners(next);
    this.replicated = new Set<number>();
    for (const ring of [this.owners, this.nextOwners]) {
      if (ring === null) continue;
      for (let p = 0; p < ring.partitionCount; p++) {
        if (ring.preferenceListForPartition(p, this.n).includes(this.self)) this.replicated.add(p);
      }
    }
    this.changeMoves = movesOf(this.current, this.n);
    this.changeSenders = sendersOf(this.changeMoves);
  }
}

/** The ring state a node starts from: the newest of the configured, given and stored ones. */
export function startingRingState(
  ring: Ring,
  given: RingState | undefined,
  store: StorageReader,
): RingState {
  let state = initialRingState(ring);
  const stored = store.getMeta(RING_META);
  for (const candidate of [given, stored]) {
    if (candidate === undefined || !isRingState(candidate, ring.partitionCount)) continue;
    if (supersedesRing(candidate, state)) state = candidate;
  }
  return state;
}

function sameOwners(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((owner, p) => owner === b[p]);
}
