/**
 * Ring lookups: the murmur3 key hash alone, and `preferenceList(key, 3)` (hash, partition,
 * cached preference list) on a 5-node and a 64-node ring of 1024 partitions. The keys are
 * precomputed; each sample looks up all of them once.
 */
import { hashKey, Ring } from '../../src/core/ring.js';
import { type NodeId, nodeId } from '../../src/core/types.js';
import { userKeys } from './data.js';
import { consume, type MicroGroup } from './harness.js';

const PARTITION_COUNT = 1024;
const REPLICA_COUNT = 3;
const KEY_COUNT = 1024;

const ids = (count: number): NodeId[] =>
  Array.from({ length: count }, (_, i) => nodeId(`n${i + 1}`));

export const ringGroup: MicroGroup = {
  name: 'ring',
  title: `consistent hashing, Q = ${PARTITION_COUNT} partitions, N = ${REPLICA_COUNT}`,
  async setup() {
    const keys = userKeys(KEY_COUNT, 42);
    const small = Ring.create(ids(5), PARTITION_COUNT);
    const large = Ring.create(ids(64), PARTITION_COUNT);
    return {
      tasks: [
        {
          name: 'hashKey(key)',
          opsPerSample: keys.length,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < keys.length; i++) acc += hashKey(keys[i]!);
            consume(acc);
          },
        },
        {
          name: 'preferenceList(key, 3), 5 nodes',
          opsPerSample: keys.length,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < keys.length; i++) {
              acc += small.preferenceList(keys[i]!, REPLICA_COUNT).length;
            }
            consume(acc);
          },
        },
        {
          name: 'preferenceList(key, 3), 64 nodes',
          opsPerSample: keys.length,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < keys.length; i++) {
              acc += large.preferenceList(keys[i]!, REPLICA_COUNT).length;
            }
            consume(acc);
          },
        },
      ],
      notes: [
        `${KEY_COUNT} distinct keys user:N; preference lists are cached per partition, so after ` +
          'warm-up a lookup is a hash plus an array read (the steady state of a running node)',
      ],
    };
  },
};
