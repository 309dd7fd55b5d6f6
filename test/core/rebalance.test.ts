/**
 * rebalance.ts: an operator's change on its claimant, ring states pushed and pulled by version
 * gossip, and a move batch sent under a ring this node has not seen yet.
 */
import { describe, expect, it } from 'vitest';
import { AntiEntropy } from '../../src/core/anti-entropy.js';
import { Effects } from '../../src/core/effects.js';
import { Handoff } from '../../src/core/handoff.js';
import { PROTOCOL_VERSION, type Transfer } from '../../src/core/messages.js';
import { Reaper } from '../../src/core/reaper.js';
import { Rebalance, scanLocalData } from '../../src/core/rebalance.js';
import { Replica } from '../../src/core/replica.js';
import type { RingChange } from '../../src/core/ring-state.js';
import { RING_META } from '../../src/core/ring-view.js';
import { type KeyRecord, nodeId } from '../../src/core/types.js';
import {
  type FakeLiveness,
  type FakeNode,
  fakeContext,
  keyWhere,
  makeDurable,
  ofKind,
  sent,
  valueRecord,
  writes,
} from './fake-context.js';

const n6 = nodeId('n6');

function setup() {
  const node = fakeContext();
  const { ctx } = node;
  const scan = scanLocalData(node.view, ctx, node.store);
  const antiEntropy = new AntiEntropy(
    {
      self: ctx.self,
      get ring() {
        return ctx.ring;
      },
      timers: ctx.timers,
      allocateId: () => ctx.allocateId(),
      isDown: (peer) => ctx.peers.isDown(peer),
      read: (key) => ctx.local.read(key),
      stored: (key) => ctx.local.read(key),
      merge: (key: string, record: KeyRecord, out: Effects) => ctx.mergeData(key, record, out),
    },
    scan.index,
    ctx.limits,
  );
  const handoff = new Handoff(ctx, node.store);
  const replica = new Replica(ctx, handoff, new Reaper(ctx, () => false));
  const parts = { view: node.view, store: node.store, antiEntropy, replica, handoff };
  const rebalance = new Rebalance(ctx, parts, scan.foreign);
  return { node, rebalance, liveness: node.peers as FakeLiveness };
}

function change(t: { rebalance: Rebalance }, reqId: number, ringChange: RingChange) {
  const out = new Effects();
  t.rebalance.onAdminRequest(
    reqId,
    { op: 'ring-change', change: ringChange, timeoutMs: 1000 },
    out,
  );
  return out;
}

function replies(out: Effects) {
  return ofKind(out, 'reply');
}

describe('Rebalance: an operator change on its claimant', () => {
  it('publishes the transition to every node and answers once it is durable here', () => {
    const t = setup();
    const out = change(t, 3, { kind: 'join', node: n6 });
    const state = t.node.ctx.ringState;
    expect(state).toMatchObject({ version: 1, claimant: t.node.self });
    expect(state.next).toContain(n6);
    const pushed = sent(out, 'ring');
    expect(pushed.map((s) => s.to)).toEqual(
      t.node.ctx.ringNodes.filter((id) => id !== t.node.self),
    );
    expect(pushed.map((s) => s.to)).toContain(n6);
    for (const { message } of pushed) expect(message.state).toEqual(state);
    expect(replies(out)).toEqual([]);
    expect(writes(out, 'meta')).toContainEqual({ ns: 'meta', name: RING_META, value: state });
    const continuations = makeDurable(t.node, out);
    expect(continuations.filter((c) => c.kind === 'reply')).toEqual([
      { kind: 'reply', reqId: 3, result: { ok: true, op: 'ring-change', state } },
    ]);
    expect(t.node.store.getMeta(RING_META)).toEqual(state);
  });

  it("answers 'busy' to a second change while one runs", () => {
    const t = setup();
    change(t, 3, { kind: 'join', node: n6 });
    const out = change(t, 4, { kind: 'leave', node: t.node.ids[2]! });
    expect(out.list).toEqual([
      { kind: 'reply', reqId: 4, result: expect.objectContaining({ ok: false, error: 'busy' }) },
    ]);
    expect(t.node.ctx.ringState.version).toBe(1);
  });

  it("answers 'invalid' to the leave of a down node, and to joining a ring member", () => {
    const t = setup();
    const down = t.node.ids[2]!;
    t.liveness.down.add(down);
    const leave = change(t, 4, { kind: 'leave', node: down });
    expect(leave.list).toEqual([
      {
        kind: 'reply',
        reqId: 4,
        result: expect.objectContaining({
          error: 'invalid',
          message: expect.stringMatching(/remove/),
        }),
      },
    ]);
    const join = change(t, 5, { kind: 'join', node: t.node.ids[1]! });
    expect(replies(join)[0]!.result).toMatchObject({ ok: false, error: 'invalid' });
    expect(t.node.ctx.ringState.version).toBe(0);
  });
});

describe('Rebalance: ring gossip', () => {
  it('pushes its state to a peer that is behind, and asks one that is ahead', () => {
    const t = setup();
    const n2 = t.node.ids[1]!;
    const same = new Effects();
    t.rebalance.onRingVersion(n2, 0, t.node.self, same);
    expect(same.list).toEqual([]);
    const ahead = new Effects();
    t.rebalance.onRingVersion(n2, 4, n2, ahead);
    expect(sent(ahead, 'ring-version')).toEqual([
      {
        to: n2,
        message: { type: 'ring-version', v: PROTOCOL_VERSION, version: 0, claimant: t.node.self },
      },
    ]);
    change(t, 3, { kind: 'join', node: n6 });
    const behind = new Effects();
    t.rebalance.onRingVersion(n2, 0, t.node.self, behind);
    expect(sent(behind, 'ring').map((s) => [s.to, s.message.state])).toEqual([
      [n2, t.node.ctx.ringState],
    ]);
  });

  it('tells its version to the next live ring node each tick, round robin', () => {
    const t = setup();
    const [, n2, n3, n4] = t.node.ids;
    t.liveness.down.add(n3!);
    const targets = [1, 2, 3].map(() => {
      const out = new Effects();
      t.rebalance.onTick(out);
      return sent(out, 'ring-version').map((s) => s.to);
    });
    expect(targets).toEqual([[n2], [n4], [t.node.ids[4]]]);
  });

  it('adopts a newer pushed state and refuses a malformed one', () => {
    const t = setup();
    const other = setup();
    change(other, 3, { kind: 'join', node: n6 });
    const out = new Effects();
    expect(t.rebalance.onRingPush(other.node.ctx.ringState, out)).toBe(true);
    expect(t.node.ctx.ringState).toEqual(other.node.ctx.ringState);
    expect(t.rebalance.onRingPush({ ...other.node.ctx.ringState, owners: [] }, out)).toBe(false);
  });
});

describe('Rebalance: move batches', () => {
  function transferTo(node: FakeNode, version: number, claimant = node.self): Transfer {
    const key = keyWhere(node.ctx.ring, 3, (p) => p.includes(node.self));
    const record = valueRecord('v', 'w', 2);
    const partition = node.ctx.ring.partitionOf(key);
    return {
      type: 'transfer',
      v: PROTOCOL_VERSION,
      version,
      claimant,
      batchId: 12,
      partition,
      entries: [{ key, record }],
    };
  }

  it('asks for the ring instead of acking a batch sent under a newer ring it has not seen', () => {
    const t = setup();
    const n2 = t.node.ids[1]!;
    const out = new Effects();
    t.rebalance.onTransfer(n2, transferTo(t.node, 1, n2), out);
    expect(out.list).toEqual([
      {
        kind: 'send',
        to: n2,
        message: { type: 'ring-version', v: PROTOCOL_VERSION, version: 0, claimant: t.node.self },
      },
    ]);
    expect(t.rebalance.stats.transferKeysReceived).toBe(0);
  });

  it('merges a batch sent under its own ring and acks it once durable', () => {
    const t = setup();
    const n2 = t.node.ids[1]!;
    const out = new Effects();
    t.rebalance.onTransfer(n2, transferTo(t.node, 0), out);
    expect(writes(out, 'data')).toHaveLength(1);
    expect(sent(out, 'transfer-ack')).toEqual([]);
    expect(makeDurable(t.node, out).map((c) => c.kind)).toEqual(['batch-part']);
    expect(t.rebalance.stats.transferKeysReceived).toBe(1);
  });
});
