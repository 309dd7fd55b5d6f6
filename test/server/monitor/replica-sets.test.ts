import { describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../../src/client/types.js';
import { Ring } from '../../../src/core/ring.js';
import { nodeId } from '../../../src/core/types.js';
import { ReplicaSets } from '../../../src/server/monitor/replica-sets.js';

function status(nodes: string[], down: string[], n: number, partitions = 64): ClusterStatus {
  const ring = Ring.create(nodes.map(nodeId), partitions);
  return {
    nodes: nodes.map((id) => ({
      id,
      state: down.includes(id) ? 'down' : 'up',
      partitions: 0,
      keys: null,
      hintsPending: null,
      partitionGroup: null,
      messagesDropped: null,
    })),
    ring: { partitionCount: partitions, owners: ring.owners },
    config: { n, r: 2, w: 2, requestTimeoutMs: 1000, valueSizeMaxBytes: 1024, durable: false },
    network: { delayMs: 0, jitterMs: 0, lossRate: 0, groups: null },
  };
}

describe('ReplicaSets', () => {
  const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];

  it('gives each partition its preference list, as the ring computes it', () => {
    const s = status(nodes, [], 3);
    const view = new ReplicaSets().view(s)!;
    const ring = Ring.fromOwners(s.ring.owners.map(nodeId));
    expect(view.partitionSet).toHaveLength(64);
    view.partitionSet.forEach((index, partition) => {
      expect(view.sets[index]).toEqual(ring.preferenceListForPartition(partition, 3));
    });
    expect(new Set(view.sets.map((set) => set.join())).size).toBe(view.sets.length);
    expect(view.underReplicated).toBe(0);
  });

  it('counts the partitions with a replica on a down node as under-replicated', () => {
    const view = new ReplicaSets().view(status(nodes, ['n2'], 3))!;
    const expected = view.partitionSet.filter((index) => view.sets[index]!.includes('n2')).length;
    expect(expected).toBeGreaterThan(0);
    expect(view.underReplicated).toBe(expected);
    view.sets.forEach((set, i) => {
      expect(view.setLive[i]).toBe(set.filter((id) => id !== 'n2').length);
    });
  });

  it('counts every partition when there are fewer nodes than N', () => {
    const view = new ReplicaSets().view(status(['n1', 'n2'], [], 3, 8))!;
    expect(view.underReplicated).toBe(8);
  });

  it('is null for a ring it cannot read', () => {
    const s = status(nodes, [], 3);
    expect(
      new ReplicaSets().view({ ...s, ring: { partitionCount: 3, owners: ['a', 'b', 'c'] } }),
    ).toBeNull();
  });
});
