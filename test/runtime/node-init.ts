/** A WorkerInit for a test node: in memory, silent, no faults, `n` replicas over `owners`. */
import { coreLimits, DEFAULT_CONFIG } from '../../src/config.js';
import type { WorkerInit } from '../../src/runtime/control.js';

export function testNodeInit(id: string, owners: readonly string[], n = 2): WorkerInit {
  return {
    id,
    n,
    owners,
    dataDir: null,
    storageEngine: 'log',
    forwardSlackMs: 1000,
    limits: coreLimits(DEFAULT_CONFIG),
    faults: { delayMs: 0, jitterMs: 0, lossRate: 0, blockedPeers: [] },
    logLevel: 'silent',
    logFd: 2,
  };
}
