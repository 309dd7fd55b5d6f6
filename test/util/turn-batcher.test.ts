import { expect, it } from 'vitest';
import { TurnBatcher } from '../../src/util/turn-batcher.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

it('hands on what one turn gathered together, at the end of the turn', async () => {
  const batches: number[][] = [];
  const batcher = new TurnBatcher<number>(100, (batch) => batches.push(batch));
  for (let i = 0; i < 5; i++) batcher.push(i);
  expect(batches).toEqual([]);
  expect(batcher.size).toBe(5);
  await turn();
  expect(batches).toEqual([[0, 1, 2, 3, 4]]);
  batcher.push(5);
  await turn();
  expect(batches).toEqual([[0, 1, 2, 3, 4], [5]]);
});

it('cuts a batch at max at once, and sends the rest at the end of the same turn', async () => {
  const batches: number[][] = [];
  const batcher = new TurnBatcher<number>(16, (batch) => batches.push(batch));
  for (let i = 0; i < 40; i++) batcher.push(i);
  expect(batches.map((b) => b.length)).toEqual([16, 16]);
  await turn();
  expect(batches.map((b) => b.length)).toEqual([16, 16, 8]);
  expect(batches.flat()).toEqual(Array.from({ length: 40 }, (_, i) => i));
  await turn();
  expect(batches).toHaveLength(3); // no empty batch from the cuts
});

it('a push from inside the flush goes out in the next turn', async () => {
  const batches: string[][] = [];
  const batcher: TurnBatcher<string> = new TurnBatcher(10, (batch) => {
    batches.push(batch);
    if (batch.includes('ping')) batcher.push('pong');
  });
  batcher.push('ping');
  await turn();
  expect(batches).toEqual([['ping']]);
  await turn();
  expect(batches).toEqual([['ping'], ['pong']]);
});

it('refuses a batch of no items', () => {
  expect(() => new TurnBatcher(0, () => {})).toThrow(/at least one item/);
});
