/**
 * The simulator's SimStorage runs the StorageEngine contract too, so what the core sees in a
 * simulated run is what it sees on memory or lmdb. SimStorage is synchronous and changed only
 * by `apply` (a completed persist); the adapter below is plumbing: `write` applies at once and
 * settles on a microtask, and `close` does nothing, since a simulated crash just stops applying.
 */
import type { PersistWrite } from '../../src/core/types.js';
import { nodeId } from '../../src/core/types.js';
import { SimStorage } from '../../src/sim/sim-storage.js';
import { type ContractEngine, runStorageContract } from './contract.js';

function contractEngine(store: SimStorage): ContractEngine {
  const write = (batch: readonly PersistWrite[]): Promise<void> => {
    try {
      store.apply(batch);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return {
    durable: false,
    get: (key, ns) => store.get(key, ns),
    entries: (options) => store.entries(options),
    count: (ns) => store.count(ns),
    getMeta: (name) => store.getMeta(name),
    write,
    putMeta: (name, value) => write([{ ns: 'meta', name, value }]),
    close: () => Promise.resolve(),
  };
}

runStorageContract('simulator', {
  open: async () => contractEngine(new SimStorage(nodeId('n1'))),
  closable: false,
});
