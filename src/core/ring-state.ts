/**
 * The cluster's versioned ring, and what a membership change (join, leave, remove) must move.
 *
 * A change runs in two steps, each a new version of the state that nodes gossip and adopt when
 * it supersedes theirs (higher version; on a tie, the higher claimant id):
 * 1. transition: `owners` is still the ring requests use; `next` is the ring being moved to.
 *    For every partition whose preference list gains nodes, one designated sender streams its
 *    copy of the partition to them (transfer.ts), and coordinators also send new writes there.
 * 2. commit: once every sender told the claimant it is done, the claimant publishes
 *    `owners = next, next = null`. Nodes that no longer replicate a partition drain what they
 *    hold of it to its new replicas, then drop it.
 * 3. departure: a node that left the ring stays in `departing` until it reported to the
 *    claimant that it drained everything. Until then it still answers tombstone reap checks:
 *    a reap that skipped it could be undone by its stale copy arriving later (a resurrection).
 *    A departing node that died is dropped by removing it.
 *
 * Down or suspected nodes never change the ring (transient failure is not a membership change);
 * only an explicit change does. Only one change runs at a time: the claimant refuses another
 * while `next` is set. Pure: no I/O, no clock.
 */
import { assert } from './assert.js';
import { Ring } from './ring.js';
import type { NodeId } from './types.js';

export interface RingState {
  /** Bumped by every change; the higher version wins. */
  readonly version: number;
  /** Owner of each partition: the ring requests are routed by. */
  readonly owners: readonly NodeId[];
  /** The ring a running change moves to; null when no change runs. */
  readonly next: readonly NodeId[] | null;
  /** The node that started the change: it collects `transfer-done` and publishes the commit. */
  readonly claimant: NodeId;
  /** Nodes removed without a handoff (they died): never designated senders. */
  readonly removed: readonly NodeId[];
  /** Nodes that left the ring and may still hold data to drain (see the file comment). */
  readonly departing: readonly NodeId[];
  /**
   * The version at which the running change began: its transfer cursors are saved under it, so
   * a claimant takeover (a new version, the same change) resumes them. Equals `version` when
   * the state was not taken over.
   */
  readonly changeVersion: number;
}

/** A membership change an operator asks for. */
export type RingChange =
  | { readonly kind: 'join'; readonly node: NodeId }
  /** The node hands its data over, then goes. */
  | { readonly kind: 'leave'; readonly node: NodeId }
  /** The node is gone for good: the others re-replicate among themselves. */
  | { readonly kind: 'remove'; readonly node: NodeId };

/** One partition whose preference list gains nodes in a transition. */
export interface PartitionMove {
  readonly partition: number;
  /** The node that streams its copy (null: no live holder remains, e.g. n = 1 and removed). */
  readonly sender: NodeId | null;
  /** Nodes in the next preference list that are not in the current one. */
  readonly incoming: readonly NodeId[];
}

/** The state of a ring that has never changed. */
export function initialRingState(ring: Ring): RingState {
  return {
    version: 0,
    owners: ring.owners,
    next: null,
    claimant: ring.nodes()[0]!,
    removed: [],
    departing: [],
    changeVersion: 0,
  };
}

/** Whether `incoming` should replace `current` (see the file comment). */
export function supersedesRing(incoming: RingState, current: RingState): boolean {
  return isNewerRing(incoming.version, incoming.claimant, current);
}

/**
 * The transition state for `change` on top of `state` (which must have no change running), with
 * `claimant` as its coordinator. Throws RangeError for a change the ring cannot make.
 */
export function beginChange(state: RingState, change: RingChange, claimant: NodeId): RingState {
  assert(state.next === null, 'ring-state: one change at a time');
  const ring = Ring.fromOwners(state.owners);
  const next = change.kind === 'join' ? ring.withNode(change.node) : ring.withoutNode(change.node);
  const removed = change.kind === 'remove' ? [change.node] : [];
  const departing = state.departing.filter((node) => node !== change.node);
  const begun = {
    version: state.version + 1,
    owners: state.owners,
    next: next.owners,
    claimant,
    removed,
    departing,
    changeVersion: state.version + 1,
  };
  assert(begun.owners.length === begun.next.length, 'ring-state: the partition count stays');
  return begun;
}

/** The committed state once every transfer of `state`'s change is done. */
export function commitChange(state: RingState): RingState {
  assert(state.next !== null, 'ring-state: only a running change commits');
  const staying = new Set(state.next);
  const left = [...new Set(state.owners)].filter(
    (node) => !staying.has(node) && !state.removed.includes(node),
  );
  return {
    version: state.version + 1,
    owners: state.next,
    next: null,
    claimant: state.claimant,
    removed: [],
    departing: [...new Set([...state.departing, ...left])].sort(),
    changeVersion: state.version + 1,
  };
}

/**
 * The running join of `node` called off (the joiner died before the change could commit): the
 * current ring stays, nothing was moved away from anyone, the copies the joiner got are moot.
 */
export function abortJoin(state: RingState, node: NodeId, claimant: NodeId): RingState {
  assert(state.next !== null, 'ring-state: only a running change is called off');
  assert(state.next.includes(node) && !state.owners.includes(node), 'ring-state: a joiner');
  const version = state.version + 1;
  return { ...state, version, next: null, claimant, removed: [], changeVersion: version };
}

/** The state once `node` no longer departs: it drained everything, or it was removed. */
export function endDeparture(state: RingState, node: NodeId, claimant: NodeId): RingState {
  assert(state.departing.includes(node), 'ring-state: only a departing node ends its departure');
  assert(state.next === null, 'ring-state: departures end between changes');
  return {
    ...state,
    version: state.version + 1,
    claimant,
    departing: state.departing.filter((id) => id !== node),
    changeVersion: state.version + 1,
  };
}

/**
 * The running change under a new claimant (the old one is dead): a new version, so it spreads,
 * with the same rings and the same changeVersion, so transfers resume where they stood.
 */
export function takeOver(state: RingState, claimant: NodeId): RingState {
  assert(state.next !== null, 'ring-state: only a running change is taken over');
  return { ...state, version: state.version + 1, claimant };
}

/** Every node of the current and the next ring, and the departing ones, sorted. */
export function nodesOf(state: RingState): NodeId[] {
  const nodes = new Set(state.owners);
  for (const node of state.next ?? []) nodes.add(node);
  for (const node of state.departing) nodes.add(node);
  return [...nodes].sort();
}

/** Whether a ring identified by (version, claimant) supersedes `state` (as supersedesRing). */
export function isNewerRing(version: number, claimant: NodeId, state: RingState): boolean {
  if (version !== state.version) return version > state.version;
  return claimant > state.claimant;
}

/**
 * The partitions a running change moves: where the next preference list (length n) gains a
 * node. The sender is the node the partition leaves when it can send (it holds a copy and loses
 * it, so the load spreads like the data), else the first node that keeps it.
 */
export function movesOf(state: RingState, n: number): PartitionMove[] {
  if (state.next === null) return [];
  const current = Ring.fromOwners(state.owners);
  const next = Ring.fromOwners(state.next);
  const moves: PartitionMove[] = [];
  for (let p = 0; p < current.partitionCount; p++) {
    const before = current.preferenceListForPartition(p, n);
    const after = next.preferenceListForPartition(p, n);
    const incoming = after.filter((node) => !before.includes(node));
    if (incoming.length === 0) continue;
    const canSend = (node: NodeId) => !state.removed.includes(node);
    const leaving = before.filter((node) => !after.includes(node) && canSend(node));
    const staying = before.filter((node) => after.includes(node) && canSend(node));
    moves.push({ partition: p, sender: leaving[0] ?? staying[0] ?? null, incoming });
  }
  return moves;
}

/** The nodes the claimant waits for before it commits. */
export function sendersOf(moves: readonly PartitionMove[]): Set<NodeId> {
  const senders = new Set<NodeId>();
  for (const move of moves) if (move.sender !== null) senders.add(move.sender);
  return senders;
}

function isNodeIds(x: unknown): x is NodeId[] {
  return Array.isArray(x) && x.every((id) => typeof id === 'string' && id.length > 0);
}

function isPowerOfTwo(count: number): boolean {
  return count >= 1 && (count & (count - 1)) === 0;
}

/** Shape check for a ring state received from a peer (with the partition count, it must match). */
export function isRingState(x: unknown, partitionCount?: number): x is RingState {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  if (!Number.isSafeInteger(s.version) || (s.version as number) < 0) return false;
  if (!isNodeIds(s.owners) || !isPowerOfTwo(s.owners.length)) return false;
  if (partitionCount !== undefined && s.owners.length !== partitionCount) return false;
  if (s.next !== null && (!isNodeIds(s.next) || s.next.length !== s.owners.length)) return false;
  if (!isNodeIds(s.removed) || !isNodeIds(s.departing)) return false;
  if (
    !Number.isSafeInteger(s.changeVersion) ||
    (s.changeVersion as number) > (s.version as number)
  ) {
    return false;
  }
  return typeof s.claimant === 'string' && s.claimant.length > 0;
}
