/**
 * The ring view's data: each partition's replica set (its preference list on the committed ring,
 * by core/ring.ts itself, so the page never re-implements placement) and which partitions are
 * under-replicated right now (fewer than N of their replicas up).
 *
 * Sent compactly: the distinct replica sets once, then one set index per partition. A ring of
 * 1024 partitions over 5 nodes with N=3 has a handful of distinct sets, so an event carries a few
 * KiB. The sets are recomputed only when the ring's owners or N change.
 */
import type { ClusterStatus, NodeStatus } from '../../client/types.js';
import { assert } from '../../core/assert.js';
import { Ring } from '../../core/ring.js';
import type { NodeId } from '../../core/types.js';

export interface ReplicationView {
  readonly n: number;
  /** The distinct replica sets, each in preference order (primary first). */
  readonly sets: readonly (readonly string[])[];
  /** For each partition, the index in `sets` of its replica set. */
  readonly partitionSet: readonly number[];
  /** For each set, how many of its replicas are up now. */
  readonly setLive: readonly number[];
  /** Partitions with fewer than n replicas up (a replica down, or fewer nodes than n). */
  readonly underReplicated: number;
}

interface Placement {
  readonly key: string;
  readonly sets: readonly (readonly string[])[];
  readonly partitionSet: readonly number[];
}

export class ReplicaSets {
  private cached: Placement | null = null;

  /** The view for this status; null when the ring is empty or not valid. */
  view(status: ClusterStatus): ReplicationView | null {
    const placement = this.placement(status.ring.owners, status.config.n);
    if (placement === null) return null;
    const up = new Set(
      status.nodes.filter((node: NodeStatus) => node.state === 'up').map((node) => node.id),
    );
    const n = status.config.n;
    const setLive = placement.sets.map((set) => set.filter((id) => up.has(id)).length);
    let underReplicated = 0;
    for (const index of placement.partitionSet) {
      if ((setLive[index] ?? 0) < n) underReplicated += 1;
    }
    return {
      n,
      sets: placement.sets,
      partitionSet: placement.partitionSet,
      setLive,
      underReplicated,
    };
  }

  private placement(owners: readonly string[], n: number): Placement | null {
    const key = `${n}|${owners.join(',')}`;
    if (this.cached?.key === key) return this.cached;
    if (owners.length === 0) return null;
    let ring: Ring;
    try {
      ring = Ring.fromOwners(owners as NodeId[]);
    } catch {
      return null;
    }
    const index = new Map<string, number>();
    const sets: string[][] = [];
    const partitionSet: number[] = [];
    for (let partition = 0; partition < ring.partitionCount; partition++) {
      const list = ring.preferenceListForPartition(partition, n);
      const name = list.join(',');
      let at = index.get(name);
      if (at === undefined) {
        at = sets.length;
        sets.push([...list]);
        index.set(name, at);
      }
      partitionSet.push(at);
    }
    assert(partitionSet.length === owners.length, 'one replica set per partition');
    assert(
      sets.every((set) => set[0] !== undefined),
      'every replica set has a primary',
    );
    this.cached = { key, sets, partitionSet };
    return this.cached;
  }
}
