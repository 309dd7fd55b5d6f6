/**
 * replica.ts: what a node does with records other nodes send it — merged and acked once
 * durable, kept as hints when addressed to a stand-in or for a key it does not replicate,
 * answered from data or hint, batches acked with their last durable part.
 */
import { describe, expect, it } from 'vitest';
import { Effects } from '../../src/core/effects.js';
import { Handoff } from '../../src/core/handoff.js';
import type { AfterPersist, BatchReceipt } from '../../src/core/node-context.js';
import { Reaper } from '../../src/core/reaper.js';
import { Replica } from '../../src/core/replica.js';
import { hintKey } from '../../src/core/types.js';
import {
  fakeContext,
  keyWhere,
  lastTimer,
  makeDurable,
  ofKind,
  sent,
  tombstones,
  valueRecord,
  writes,
} from './fake-context.js';

function setup() {
  const node = fakeContext();
  const handoff = new Handoff(node.ctx, node.store);
  const reaper = new Reaper(node.ctx, () => false);
  const replica = new Replica(node.ctx, handoff, reaper);
  const { ring } = node.ctx;
  const self = node.self;
  const n2 = node.ids[1]!;
  const n4 = node.ids[3]!;
  const replicated = (skip: number) => {
    let seen = 0;
    return keyWhere(ring, 3, (p) => p.includes(self) && seen++ === skip);
  };
  const foreign = keyWhere(ring, 3, (p) => !p.includes(self));
  return {
    node,
    handoff,
    reaper,
    replica,
    n2,
    n4,
    mine: replicated(0),
    mine2: replicated(1),
    foreign,
  };
}

const record = valueRecord('v', 'w', 3);

describe('Replica: puts', () => {
  it('merges a replica-put and acks it only once the write is durable', () => {
    const t = setup();
    const out = new Effects();
    t.replica.onPut(t.n2, 5, t.mine, record, undefined, out);
    expect(writes(out, 'data')).toEqual([{ ns: 'data', key: t.mine, record }]);
    expect(sent(out, 'replica-put-ack')).toEqual([]);
    expect(makeDurable(t.node, out)).toEqual([{ kind: 'peer-ack', to: t.n2, opId: 5 }]);
    expect(t.replica.stats.replicaPuts).toBe(1);
  });

  it('acks a record it already holds durably at once, without writing', () => {
    const t = setup();
    const first = new Effects();
    t.replica.onPut(t.n2, 5, t.mine, record, undefined, first);
    // Still pending: the same record is written again so its ack waits for durability.
    const pending = new Effects();
    t.replica.onPut(t.n2, 6, t.mine, record, undefined, pending);
    expect(ofKind(pending, 'persist')).toHaveLength(1);
    makeDurable(t.node, first);
    makeDurable(t.node, pending);
    const again = new Effects();
    t.replica.onPut(t.n2, 7, t.mine, record, undefined, again);
    expect(again.list).toEqual([
      {
        kind: 'send',
        to: t.n2,
        message: expect.objectContaining({ type: 'replica-put-ack', opId: 7 }),
      },
    ]);
  });

  it('keeps a put addressed to it as stand-in as a hint for the down owner', () => {
    const t = setup();
    const out = new Effects();
    t.replica.onPut(t.n2, 5, t.mine, record, t.n4, out);
    expect(writes(out, 'hints')).toEqual([{ ns: 'hints', key: hintKey(t.n4, t.mine), record }]);
    expect(makeDurable(t.node, out)).toEqual([{ kind: 'peer-ack', to: t.n2, opId: 5 }]);
    expect(t.handoff.count()).toBe(1);
    expect(t.node.store.get(t.mine)).toBeUndefined();
  });

  it('holds a key it does not replicate as hints for each owner, the ack riding on the last', () => {
    const t = setup();
    const out = new Effects();
    t.replica.onPut(t.n2, 5, t.foreign, record, undefined, out);
    const owners = t.node.ctx.ring.preferenceList(t.foreign, 3);
    expect(writes(out, 'hints')).toEqual(
      owners.map((owner) => ({ ns: 'hints', key: hintKey(owner, t.foreign), record })),
    );
    const none: AfterPersist = { kind: 'none' };
    expect(makeDurable(t.node, out)).toEqual([none, none, { kind: 'peer-ack', to: t.n2, opId: 5 }]);
    expect(t.handoff.count()).toBe(3);
  });
});

describe('Replica: gets', () => {
  it('answers a replica-get from its data, or from the hint it holds for a down owner', () => {
    const t = setup();
    const hint = valueRecord('h', 'x', 9);
    const writesOut = new Effects();
    t.replica.onPut(t.n2, 1, t.mine, record, undefined, writesOut);
    t.replica.onPut(t.n2, 2, t.mine, hint, t.n4, writesOut);
    const out = new Effects();
    t.replica.onGet(t.n2, 10, t.mine, undefined, out);
    t.replica.onGet(t.n2, 11, t.mine, t.n4, out);
    t.replica.onGet(t.n2, 12, t.mine2, undefined, out);
    expect(
      sent(out, 'replica-get-reply').map((s) => [s.to, s.message.opId, s.message.record]),
    ).toEqual([
      [t.n2, 10, record],
      [t.n2, 11, hint],
      [t.n2, 12, null],
    ]);
    expect(t.replica.stats.replicaGets).toBe(3);
  });
});

describe('Replica: batches', () => {
  it('acks a batch once every changed key is durable', () => {
    const t = setup();
    const out = new Effects();
    const entries = [
      { key: t.mine, record },
      { key: t.mine2, record },
    ];
    t.replica.receiveBatch(t.n2, 40, entries, 'handoff-ack', out);
    expect(sent(out, 'handoff-ack')).toEqual([]);
    const parts = makeDurable(t.node, out);
    expect(parts.map((p) => p.kind)).toEqual(['batch-part', 'batch-part']);
    const acks = new Effects();
    Replica.batchPartDurable((parts[0] as { batch: BatchReceipt }).batch, acks);
    expect(acks.list).toEqual([]);
    Replica.batchPartDurable((parts[1] as { batch: BatchReceipt }).batch, acks);
    expect(sent(acks, 'handoff-ack').map((s) => [s.to, s.message.batchId])).toEqual([[t.n2, 40]]);
    // The same batch again changes nothing: acked at once.
    const again = new Effects();
    t.replica.receiveBatch(t.n2, 41, entries, 'transfer-ack', again);
    expect(ofKind(again, 'persist')).toEqual([]);
    expect(sent(again, 'transfer-ack').map((s) => s.message.batchId)).toEqual([41]);
  });

  it('holds a batch key it does not replicate as hints, and counts it once toward the ack', () => {
    const t = setup();
    const out = new Effects();
    t.replica.receiveBatch(t.n2, 40, [{ key: t.foreign, record }], 'transfer-ack', out);
    const parts = makeDurable(t.node, out);
    expect(parts.map((p) => p.kind)).toEqual(['none', 'none', 'batch-part']);
    const acks = new Effects();
    Replica.batchPartDurable((parts[2] as { batch: BatchReceipt }).batch, acks);
    expect(sent(acks, 'transfer-ack')).toHaveLength(1);
  });
});

describe('Replica: repairs', () => {
  it('merges a repair once, and arms a reap when only tombstones are left', () => {
    const t = setup();
    const dead = tombstones(['w', 4]);
    const out = new Effects();
    t.replica.onRepair(t.mine, dead, out);
    expect(writes(out, 'data')).toEqual([{ ns: 'data', key: t.mine, record: dead }]);
    expect(t.replica.stats.repairsApplied).toBe(1);
    expect(t.reaper.pending).toBe(1);
    expect(lastTimer(out).delayMs).toBe(t.node.ctx.limits.tombstoneGraceMs);
    const again = new Effects();
    t.replica.onRepair(t.mine, dead, again);
    expect(again.list).toEqual([]);
    expect(t.replica.stats.repairsApplied).toBe(1);
  });

  it('arms no reap for a merge that leaves a live value', () => {
    const t = setup();
    const out = new Effects();
    expect(t.replica.merge(t.mine, record, out)).toBe(true);
    expect(t.reaper.pending).toBe(0);
    expect(ofKind(out, 'set-timer')).toEqual([]);
  });
});
