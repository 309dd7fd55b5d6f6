/**
 * handoff.ts: stand-ins past the preference list for down primaries, the per-owner hint bound,
 * delivery of one batch at a time to live owners, dropping only hints acked unchanged, and the
 * bounded rehoming of hints for a node that left the ring.
 */
import { describe, expect, it } from 'vitest';
import { Effects } from '../../src/core/effects.js';
import { Handoff, targetsFor } from '../../src/core/handoff.js';
import { HintBook } from '../../src/core/hints.js';
import type { CoreLimits } from '../../src/core/node-context.js';
import { type Dot, hintKey, type KeyRecord, type NodeId, nodeId } from '../../src/core/types.js';
import { sync } from '../../src/core/version.js';
import { SimStorage } from '../../src/sim/sim-storage.js';
import {
  type FakeLiveness,
  fakeContext,
  makeDurable,
  ofKind,
  sent,
  valueRecord,
  writes,
} from './fake-context.js';

const record = valueRecord('v', 'w', 3);

function setup(limits: Partial<CoreLimits> = {}, store?: SimStorage) {
  const node = fakeContext({ limits, ...(store === undefined ? {} : { store }) });
  const handoff = new Handoff(node.ctx, node.store);
  const liveness = node.peers as FakeLiveness;
  const [, n2, n3, n4] = node.ids as NodeId[];
  return { node, handoff, liveness, n2: n2!, n3: n3!, n4: n4! };
}

/** Stores a hint for `owner` the way a coordinator's replica-put does, and makes it durable. */
function hint(t: ReturnType<typeof setup>, owner: NodeId, key: string, rec: KeyRecord = record) {
  const out = new Effects();
  t.handoff.storeHint(t.n2, 1, owner, key, rec, out);
  makeDurable(t.node, out);
}

describe('targetsFor', () => {
  function walkOf(t: ReturnType<typeof setup>, key: string) {
    const { ring } = t.node.ctx;
    return ring.preferenceListForPartition(ring.partitionOf(key), ring.nodes().length);
  }

  it('sends to every primary while all are up', () => {
    const t = setup();
    const { primaries, targets } = targetsFor(t.node.ctx, 'k1');
    expect(primaries).toEqual(t.node.ctx.ring.preferenceList('k1', 3));
    expect(targets).toEqual(primaries.map((node) => ({ node, hintFor: null })));
  });

  it('replaces each down primary by the next live node past the preference list', () => {
    const t = setup();
    const walk = walkOf(t, 'k1');
    t.liveness.down.add(walk[0]!);
    t.liveness.down.add(walk[2]!);
    t.liveness.down.add(walk[3]!);
    const { targets } = targetsFor(t.node.ctx, 'k1');
    expect(targets).toEqual([
      { node: walk[4], hintFor: walk[0] },
      { node: walk[1], hintFor: null },
    ]);
  });

  it('keeps the order of the preference list, stand-ins in walk order', () => {
    const t = setup();
    const walk = walkOf(t, 'k2');
    t.liveness.down.add(walk[0]!);
    t.liveness.dead.add(walk[1]!);
    const { targets } = targetsFor(t.node.ctx, 'k2');
    expect(targets).toEqual([
      { node: walk[3], hintFor: walk[0] },
      { node: walk[4], hintFor: walk[1] },
      { node: walk[2], hintFor: null },
    ]);
  });
});

describe('Handoff: storing hints', () => {
  it('stores a hint per owner and key, merging later writes to it', () => {
    const t = setup();
    const out = new Effects();
    t.handoff.storeHint(t.n2, 5, t.n4, 'a', record, out);
    expect(writes(out, 'hints')).toEqual([{ ns: 'hints', key: hintKey(t.n4, 'a'), record }]);
    const newer = valueRecord('x', 'x', 1);
    const again = new Effects();
    t.handoff.storeHint(t.n2, 6, t.n4, 'a', newer, again);
    expect(writes(again, 'hints')).toEqual([
      { ns: 'hints', key: hintKey(t.n4, 'a'), record: sync(record, newer) },
    ]);
    expect(t.handoff.count()).toBe(1);
    expect(t.handoff.stats.hintsStored).toBe(2);
    expect(t.handoff.holdsKey('a')).toBe(true);
  });

  it('refuses a new key for an owner at hintsPerTargetMax, but still merges held keys', () => {
    const t = setup({ hintsPerTargetMax: 1 });
    hint(t, t.n4, 'a');
    const refused = new Effects();
    t.handoff.storeHint(t.n2, 7, t.n4, 'b', record, refused);
    expect(sent(refused, 'replica-put-nack').map((s) => [s.to, s.message.opId])).toEqual([
      [t.n2, 7],
    ]);
    expect(ofKind(refused, 'persist')).toEqual([]);
    expect(t.handoff.stats.hintsRefused).toBe(1);
    const held = new Effects();
    t.handoff.storeHint(t.n2, 8, t.n4, 'a', valueRecord('y', 'y', 1), held);
    expect(ofKind(held, 'persist')).toHaveLength(1);
    const otherOwner = new Effects();
    t.handoff.storeHint(t.n2, 9, t.n3, 'b', record, otherOwner);
    expect(ofKind(otherOwner, 'persist')).toHaveLength(1);
  });

  it('refuses a hint for itself', () => {
    const t = setup();
    const out = new Effects();
    t.handoff.storeHint(t.n2, 7, t.node.self, 'a', record, out);
    expect(sent(out, 'replica-put-nack')).toHaveLength(1);
    expect(t.handoff.count()).toBe(0);
  });
});

describe('Handoff: delivery', () => {
  it('sends a batch to each live owner only, one batch in flight per owner', () => {
    const t = setup();
    hint(t, t.n3, 'a');
    hint(t, t.n3, 'b');
    hint(t, t.n4, 'c');
    t.liveness.down.add(t.n4);
    const out = new Effects();
    t.handoff.deliver(out);
    const batches = sent(out, 'handoff');
    expect(batches.map((s) => s.to)).toEqual([t.n3]);
    expect(batches[0]!.message.entries).toEqual([
      { key: 'a', record },
      { key: 'b', record },
    ]);
    const next = new Effects();
    t.handoff.deliver(next);
    expect(sent(next, 'handoff')).toEqual([]);
    // Unanswered for more than a tick, the batch is presumed lost and sent again.
    t.handoff.tick();
    t.handoff.tick();
    t.handoff.deliver(next);
    expect(sent(next, 'handoff').map((s) => s.to)).toEqual([t.n3]);
  });

  it('drops on ack only the hints that did not change since they were sent', () => {
    const t = setup();
    hint(t, t.n3, 'a');
    hint(t, t.n3, 'b');
    const out = new Effects();
    t.handoff.deliver(out);
    const { batchId } = sent(out, 'handoff')[0]!.message;
    hint(t, t.n3, 'b', valueRecord('newer', 'z', 1));
    const wrong = new Effects();
    t.handoff.onAck(t.n3, batchId + 1000, wrong);
    expect(wrong.list).toEqual([]);
    const acked = new Effects();
    t.handoff.onAck(t.n3, batchId, acked);
    expect(writes(acked, 'hints')).toEqual([
      { ns: 'hints', key: hintKey(t.n3, 'a'), record: null },
    ]);
    expect(ofKind(acked, 'persist')).toHaveLength(1);
    expect(t.handoff.stats.hintsDelivered).toBe(1);
    expect(t.handoff.holdsKey('a')).toBe(false);
    expect(t.handoff.holdsKey('b')).toBe(true);
  });
});

describe('Handoff: rehoming', () => {
  it("merges hints of a node no longer in the ring into the key's replicas, bounded per tick", () => {
    const gone = nodeId('n9');
    const store = new SimStorage(nodeId('n1'));
    const keys = ['a', 'b', 'c'];
    store.apply(keys.map((key) => ({ ns: 'hints', key: hintKey(gone, key), record })));
    store.apply([{ ns: 'hints', key: hintKey(nodeId('n3'), 'd'), record }]);
    const t = setup({ handoffBatchKeysMax: 2 }, store);
    expect(t.handoff.count()).toBe(4); // loaded from storage
    const out = new Effects();
    t.handoff.rehome(out);
    expect(t.node.merges).toEqual([
      { key: 'a', record },
      { key: 'b', record },
    ]);
    expect(writes(out, 'hints')).toEqual([
      { ns: 'hints', key: hintKey(gone, 'a'), record: null },
      { ns: 'hints', key: hintKey(gone, 'b'), record: null },
    ]);
    expect(t.handoff.count()).toBe(2);
    t.handoff.rehome(new Effects());
    expect(t.node.merges.map((m) => m.key)).toEqual(['a', 'b', 'c']);
    expect(t.handoff.count()).toBe(1); // n3's hint stays: n3 is in the ring
    expect(t.handoff.holdsKey('d')).toBe(true);
  });
});

describe('HintBook batches', () => {
  it('bound a handoff batch by value bytes too, and carry at least one key', () => {
    const book = new HintBook(100, 128, 1_000_000);
    const owner = nodeId('n2');
    for (let i = 0; i < 5; i++) book.noteStored(owner, `k${i}`);
    const big = new Uint8Array(600_000);
    const read = (key: string) => ({ siblings: [{ dot: [key, 1] as Dot, past: [], value: big }] });
    expect(book.nextBatch(owner, 1, read)?.map((e) => e.key)).toEqual(['k0']);
    const tiny = new HintBook(100, 128, 10);
    tiny.noteStored(owner, 'k0');
    expect(tiny.nextBatch(owner, 1, read)).toHaveLength(1);
  });
});
