import { expect, it } from 'vitest';
import { MemoryStorage, openStorage } from '../../src/storage/index.js';
import { recordBytes } from '../../src/storage/memory.js';
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

it('counts the bytes of the records it holds: keys, values and a share per sibling', async () => {
  const engine = new MemoryStorage();
  const value = (bytes: number) => new Uint8Array(bytes).fill(7);
  const one = { siblings: [{ dot: ['n1', 1] as [string, number], past: [], value: value(1000) }] };
  const two = {
    siblings: [
      { dot: ['n1', 2] as [string, number], past: [], value: value(10) },
      { dot: ['n2', 1] as [string, number], past: [], value: null },
    ],
  };
  expect(engine.bytes()).toBe(0);
  await engine.write([{ ns: 'data', key: 'abc', record: one }]);
  expect(engine.bytes()).toBe(recordBytes('abc', one));
  expect(recordBytes('abc', one)).toBe(3 + 96 + 1000);
  await engine.write([{ ns: 'data', key: 'abc', record: two }]); // an overwrite: the difference
  await engine.write([{ ns: 'hints', key: 'n3\u0000abc', record: one }]); // hints count too
  expect(engine.bytes()).toBe(3 + 2 * 96 + 10 + recordBytes('n3\u0000abc', one));
  await engine.write([{ ns: 'data', key: 'abc', record: null }]);
  await engine.write([{ ns: 'data', key: 'gone', record: null }]); // nothing there: no change
  expect(engine.bytes()).toBe(recordBytes('n3\u0000abc', one));
  await engine.write([{ ns: 'hints', key: 'n3\u0000abc', record: null }]);
  expect(engine.bytes()).toBe(0);
  await engine.close();
});
