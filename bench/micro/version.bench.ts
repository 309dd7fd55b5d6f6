/**
 * Dotted version vectors (src/core/version.ts, src/core/context.ts): merging two replicas'
 * records, a coordinator's update, a record's causal context, the opaque context string
 * round trip, and the covers check at the heart of obsolescence.
 *
 * Every task rotates over INPUT_VARIANTS inputs built with different seeds, so no call sees
 * the very same objects twice in a row.
 */
import { DEFAULT_CONFIG } from '../../src/config.js';
import { decodeContext, encodeContext } from '../../src/core/context.js';
import type { Dot, KeyRecord, VersionVector } from '../../src/core/types.js';
import { contextOf, sync, update, vvCovers } from '../../src/core/version.js';
import { ACTORS, prng, randomBytes, recordWithSiblings, requestId, VALUE_SIZE } from './data.js';
import { consume, type MicroGroup, type MicroTask } from './harness.js';

/** Distinct inputs per task (a power of two: indexed with `i & (INPUT_VARIANTS - 1)`). */
const INPUT_VARIANTS = 8;
const MASK = INPUT_VARIANTS - 1;
/** As the node passes it. */
const PAST_ENTRIES_MAX = DEFAULT_CONFIG.vvEntriesMax;
const DOT_COUNT = 1024;

const variants = <T>(build: (seed: number) => T): T[] =>
  Array.from({ length: INPUT_VARIANTS }, (_, i) => build(i + 1));

/**
 * sync(a, b) where b is a's copy as another replica returns it (structuredClone: equal
 * siblings, distinct objects), the common case on a read: every dot is in both, so sync also
 * compares the 1 KiB values byte by byte.
 */
function syncTask(siblings: number, opsPerSample: number): MicroTask {
  const pairs = variants((seed) => {
    const a = recordWithSiblings(siblings, seed);
    return { a, b: structuredClone(a) as KeyRecord };
  });
  return {
    name: `sync, ${siblings} sibling${siblings === 1 ? '' : 's'} per side (replicas agree)`,
    opsPerSample,
    fn: () => {
      let acc = 0;
      for (let i = 0; i < opsPerSample; i++) {
        const pair = pairs[i & MASK]!;
        acc += sync(pair.a, pair.b).siblings.length;
      }
      consume(acc);
    },
  };
}

export const versionGroup: MicroGroup = {
  name: 'version',
  title: 'dotted version vectors: sync, update, contexts, covers (1 KiB values)',
  async setup() {
    const records = variants((seed) => recordWithSiblings(1, seed));
    const contexts = records.map((record) => contextOf(record));
    const values = variants((seed) => randomBytes(VALUE_SIZE, 500 + seed));
    const rids = variants((seed) => requestId(900 + seed));
    const threeSiblings = variants((seed) => recordWithSiblings(3, seed));
    const threeContexts = threeSiblings.map((record) => contextOf(record));
    const encoded = threeContexts.map((context) => encodeContext(context));

    // A 5-actor vector (a key written through every node) and dots around its counters, half
    // covered, half not.
    const random = prng(11);
    const wide: VersionVector = ACTORS.map((actor, i) => [actor, 100 + 10 * i] as const);
    const dots: Dot[] = Array.from({ length: DOT_COUNT }, () => {
      const actorIndex = Math.floor(random() * ACTORS.length);
      return [ACTORS[actorIndex]!, 100 + 10 * actorIndex + Math.floor(random() * 20) - 9];
    });

    const updateBatch = 64;
    const contextBatch = 256;
    return {
      tasks: [
        syncTask(1, 64),
        syncTask(3, 16),
        syncTask(10, 4),
        {
          name: 'update, blind (1 sibling -> 2)',
          opsPerSample: updateBatch,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < updateBatch; i++) {
              const k = i & MASK;
              const result = update(records[k]!, [], ACTORS[0]!, values[k]!, {
                counterMin: 1,
                pastEntriesMax: PAST_ENTRIES_MAX,
                rid: rids[k]!,
              });
              acc += result.record.siblings.length;
            }
            consume(acc);
          },
        },
        {
          name: 'update, with context (1 sibling -> 1)',
          opsPerSample: updateBatch,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < updateBatch; i++) {
              const k = i & MASK;
              const result = update(records[k]!, contexts[k]!, ACTORS[0]!, values[k]!, {
                counterMin: 1,
                pastEntriesMax: PAST_ENTRIES_MAX,
                rid: rids[k]!,
              });
              acc += result.record.siblings.length;
            }
            consume(acc);
          },
        },
        {
          name: 'contextOf, 3 siblings',
          opsPerSample: contextBatch,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < contextBatch; i++)
              acc += contextOf(threeSiblings[i & MASK]!).length;
            consume(acc);
          },
        },
        {
          name: 'encodeContext, 3 actors',
          opsPerSample: contextBatch,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < contextBatch; i++) {
              acc += encodeContext(threeContexts[i & MASK]!).length;
            }
            consume(acc);
          },
        },
        {
          name: 'decodeContext, 3 actors',
          opsPerSample: contextBatch,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < contextBatch; i++) acc += decodeContext(encoded[i & MASK]!).length;
            consume(acc);
          },
        },
        {
          name: 'vvCovers, 5-actor vector',
          opsPerSample: DOT_COUNT,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < DOT_COUNT; i++) if (vvCovers(wide, dots[i]!)) acc++;
            consume(acc);
          },
        },
      ],
      notes: [
        'records: 1 KiB values, dots from three replica actors, a shared 3-actor causal past, ' +
          'request ids; update passes counterMin and pastEntriesMax as the node does',
        `encoded 3-actor context: ${encoded[0]!.length} characters`,
      ],
    };
  },
};
