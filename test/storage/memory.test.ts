import { expect, it } from 'vitest';
import { MemoryStorage, openStorage } from '../../src/storage/index.js';
import { runStorageContract } from './contract.js';

runStorageContract('memory', {
  open: async () => new MemoryStorage(),
});

it('openStorage without a data directory gives a volatile memory engine', async () => {
  const engine = await openStorage({ dataDir: null, nodeId: 'n1' });
  expect(engine.kind).toBe('memory');
  expect(engine.durable).toBe(false);
  await engine.close();
});
