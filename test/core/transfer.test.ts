/**
 * The partition streamer (transfer.ts) against a fake host: batches are bounded and ack-clocked,
 * a move saves its cursor and resumes from it, unacked batches are resent after two ticks, a
 * drain drops keys only once acked unchanged and is not held up by a dead target.
 */
import { describe, expect, it } from 'vitest';
import { Effects } from '../../src/core/effects.js';
import type { Transfer } from '../../src/core/messages.js';
import { type StreamSpec, Transfers } from '../../src/core/transfer.js';
import { type KeyRecord, type NodeId, nodeId } from '../../src/core/types.js';

const a = nodeId('a');
const b = nodeId('b');

function record(counter: number): KeyRecord {
  return { siblings: [{ dot: ['x', counter], past: [], value: new Uint8Array([counter]) }] };
}

class FakeHost {
  readonly data = new Map<string, KeyRecord>();
  readonly down = new Set<NodeId>();
  readonly cursors = new Map<string, string>();
  readonly moved: string[] = [];
  readonly drained: string[] = [];
  readonly gone: string[] = [];
  private id = 1;

  constructor(keys: number) {
    for (let i = 0; i < keys; i++) this.data.set(`k${String(i).padStart(3, '0')}`, record(i + 1));
  }

  host() {
    return {
      allocateId: () => this.id++,
      ringIdentity: () => ({ version: 7, claimant: nodeId('c') }),
      isDown: (peer: NodeId) => this.down.has(peer),
      read: (key: string) => this.data.get(key),
      saveCursor: (name: string, key: string) => void this.cursors.set(name, key),
      moved: (key: string) => void this.moved.push(key),
      drained: (key: string) => {
        this.drained.push(key);
        this.data.delete(key);
      },
      gone: (key: string) => void this.gone.push(key),
    };
  }

  keys = () => [...this.data.keys()].sort();
}

function sent(out: Effects): Array<{ to: NodeId; message: Transfer }> {
  return out.list.flatMap((e) =>
    e.kind === 'send' && e.message.type === 'transfer' ? [{ to: e.to, message: e.message }] : [],
  );
}

function move(host: FakeHost, partition: number, cursor: string | null = null): StreamSpec {
  return { partition, targets: [a], keys: host.keys, cursorMeta: `m${partition}`, cursor };
}

describe('Transfers', () => {
  it('bounds a batch by value bytes too, and always sends at least one key', () => {
    const fake = new FakeHost(0);
    const big = new Uint8Array(600_000);
    for (let i = 0; i < 6; i++) {
      fake.data.set(`k${i}`, { siblings: [{ dot: ['x', i + 1], past: [], value: big }] });
    }
    const transfers = new Transfers(fake.host(), {
      transferBatchKeysMax: 128,
      transferBatchesMax: 1,
      batchBytesMax: 1_000_000,
    });
    transfers.reset([move(fake, 1)]);
    const out = new Effects();
    transfers.onTick(out);
    // 600 kB values under a 1 MB budget: one key per batch, not all six in one 3.6 MB message.
    expect(sent(out).map((s) => s.message.entries.length)).toEqual([1]);
    const tiny = new Transfers(fake.host(), {
      transferBatchKeysMax: 128,
      transferBatchesMax: 1,
      batchBytesMax: 1024,
    });
    tiny.reset([move(fake, 1)]);
    const first = new Effects();
    tiny.onTick(first);
    // A key larger than the whole budget still goes, alone: a batch never comes out empty.
    expect(sent(first).map((s) => s.message.entries.length)).toEqual([1]);
  });

  it('keeps at most transferBatchesMax batches of transferBatchKeysMax keys in flight', () => {
    const fake = new FakeHost(20);
    const transfers = new Transfers(fake.host(), {
      transferBatchKeysMax: 4,
      transferBatchesMax: 2,
      batchBytesMax: 1 << 30,
    });
    transfers.reset([move(fake, 1), move(fake, 2), move(fake, 3)]);
    const out = new Effects();
    transfers.onTick(out);
    const batches = sent(out);
    expect(batches.map((s) => s.message.partition)).toEqual([1, 2]);
    expect(batches.every((s) => s.message.entries.length === 4)).toBe(true);
    expect(batches[0]!.message).toMatchObject({ version: 7, claimant: 'c' });
    // An ack frees a slot: the next batch goes at once (round robin: partition 3's turn).
    const next = new Effects();
    transfers.onAck(a, batches[0]!.message.batchId, next);
    expect(sent(next).map((s) => s.message.partition)).toEqual([3]);
    expect(fake.cursors.get('m1')).toBe('k003');
  });

  it('a move runs to its end, then counts as finished; it resumes from a saved cursor', () => {
    const fake = new FakeHost(10);
    const transfers = new Transfers(fake.host(), {
      transferBatchKeysMax: 4,
      transferBatchesMax: 1,
      batchBytesMax: 1 << 30,
    });
    transfers.reset([move(fake, 1, 'k005')]);
    const keys: string[] = [];
    let out = new Effects();
    transfers.onTick(out);
    for (let i = 0; i < 10 && sent(out).length > 0; i++) {
      const [batch] = sent(out);
      keys.push(...batch!.message.entries.map((e) => e.key));
      out = new Effects();
      transfers.onAck(a, batch!.message.batchId, out);
    }
    expect(keys).toEqual(['k006', 'k007', 'k008', 'k009']);
    expect(transfers.movesFinished()).toBe(true);
    expect(fake.moved).toEqual(keys);
  });

  it('resends a batch that stays unacked for two ticks, only to the targets that owe an ack', () => {
    const fake = new FakeHost(3);
    const transfers = new Transfers(fake.host(), {
      transferBatchKeysMax: 8,
      transferBatchesMax: 1,
      batchBytesMax: 1 << 30,
    });
    transfers.reset([{ ...move(fake, 1), targets: [a, b] }]);
    const first = new Effects();
    transfers.onTick(first);
    const batchId = sent(first)[0]!.message.batchId;
    transfers.onAck(a, batchId, new Effects());
    const tick1 = new Effects();
    transfers.onTick(tick1);
    expect(sent(tick1)).toEqual([]);
    const tick2 = new Effects();
    transfers.onTick(tick2);
    expect(sent(tick2).map((s) => s.to)).toEqual([b]);
    expect(transfers.holdsKey('k000')).toBe(true);
    transfers.onAck(b, batchId, new Effects());
    expect(transfers.holdsKey('k000')).toBe(false);
  });

  it('a drain drops keys once acked, and a dead target does not hold it up', () => {
    const fake = new FakeHost(3);
    const transfers = new Transfers(fake.host(), {
      transferBatchKeysMax: 8,
      transferBatchesMax: 1,
      batchBytesMax: 1 << 30,
    });
    transfers.reset([
      { partition: 1, targets: [a, b], keys: fake.keys, cursorMeta: null, cursor: null },
    ]);
    const out = new Effects();
    transfers.onTick(out);
    const batchId = sent(out)[0]!.message.batchId;
    transfers.onAck(a, batchId, new Effects());
    expect(fake.drained).toEqual([]); // b is up and has not acked
    fake.down.add(b);
    transfers.onTick(new Effects());
    expect(fake.drained).toEqual(['k000', 'k001', 'k002']);
    expect(transfers.movesFinished()).toBe(true); // drains do not count as moves
  });

  it('a drain reports a key it can no longer read as gone; a move does not', () => {
    const fake = new FakeHost(2);
    const limits = { transferBatchKeysMax: 8, transferBatchesMax: 2, batchBytesMax: 1 << 30 };
    const transfers = new Transfers(fake.host(), limits);
    const keys = () => ['k000', 'k001', 'reaped'];
    transfers.reset([
      { partition: 1, targets: [a], keys, cursorMeta: null, cursor: null },
      { partition: 2, targets: [a], keys: () => ['moved-away'], cursorMeta: 'm2', cursor: null },
    ]);
    const out = new Effects();
    transfers.onTick(out);
    expect(sent(out).flatMap((s) => s.message.entries.map((e) => e.key))).toEqual(['k000', 'k001']);
    expect(fake.gone).toEqual(['reaped']);
  });

  it('sends nothing to a stream whose targets are all down', () => {
    const fake = new FakeHost(3);
    fake.down.add(a);
    const transfers = new Transfers(fake.host(), {
      transferBatchKeysMax: 8,
      transferBatchesMax: 1,
      batchBytesMax: 1 << 30,
    });
    transfers.reset([move(fake, 1)]);
    const out = new Effects();
    transfers.onTick(out);
    expect(sent(out)).toEqual([]);
    expect(transfers.movesFinished()).toBe(false);
  });
});
