/**
 * A child process for log-crash.test.ts: opens a LogStorage in `argv[2]` (compacting often) and
 * writes batches until killed, printing `acked <i>` once batch i's write resolved. Batch i sets
 * `k<i % 500>` to `v<i>` and the meta `last` to i, so a recovered state can be checked against
 * the acknowledgements.
 */
import { LogStorage } from '../../../src/storage/log.js';

const directory = process.argv[2];
const first = Number(process.argv[3] ?? 0);
if (directory === undefined) throw new Error('usage: log-writer.ts DIR [FIRST]');
const storage = await LogStorage.open({ path: directory, compactMinBytes: 64 * 1024 });
const value = new Uint8Array(200).fill(7);

async function writeOne(i: number): Promise<void> {
  await storage.write([
    {
      ns: 'data',
      key: `k${i % 500}`,
      record: { siblings: [{ dot: ['w', i + 1], past: [], value: Buffer.from(`v${i}`) }] },
    },
    {
      ns: 'hints',
      key: `h${i % 50}`,
      record: { siblings: [{ dot: ['w', i + 1], past: [], value }] },
    },
    { ns: 'meta', name: 'last', value: i },
  ]);
  process.stdout.write(`acked ${i}\n`);
}

// 16 writers in flight, so batches of one turn share an append, as a node's do.
let next = first;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    for (;;) await writeOne(next++);
  }),
);
