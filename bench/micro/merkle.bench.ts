/**
 * Merkle trees (update, diff) belong here once src/core/merkle.ts exists. Until then the group
 * reports that it has nothing to measure rather than timing a stand-in.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MicroGroup } from './harness.js';

const MERKLE_SOURCE = fileURLToPath(new URL('../../src/core/merkle.ts', import.meta.url));

export const merkleGroup: MicroGroup = {
  name: 'merkle',
  title: 'Merkle tree update and diff',
  async setup() {
    if (!fs.existsSync(MERKLE_SOURCE)) {
      return {
        skipped:
          'src/core/merkle.ts does not exist yet (Merkle trees are not built), so there is ' +
          'nothing to measure; add the update/diff tasks to bench/micro/merkle.bench.ts with it',
      };
    }
    return {
      skipped:
        'src/core/merkle.ts exists but bench/micro/merkle.bench.ts has no tasks for it yet: ' +
        'write them against its API',
    };
  },
};
