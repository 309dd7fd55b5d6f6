/**
 * coordinator.ts (+ quorum.ts): validation, the in-flight bound, persist-before-fan-out, W/R
 * counting, sloppy acks, early and timed-out quorum failures, forwarding, read repair and
 * idempotent retries — driven by plain calls against a fake context.
 */
import { describe, expect, it } from 'vitest';
import { Coordinator } from '../../src/core/coordinator.js';
import { Effects } from '../../src/core/effects.js';
import { Forwarder } from '../../src/core/forward.js';
import type { DataRequest, GetRequest, PutRequest } from '../../src/core/messages.js';
import type { CoreLimits, FanOut, Origin } from '../../src/core/node-context.js';
import { Peers } from '../../src/core/peers.js';
import { Reaper } from '../../src/core/reaper.js';
import type { NodeId } from '../../src/core/types.js';
import { sync } from '../../src/core/version.js';
import {
  fakeContext,
  keyWhere,
  lastTimer,
  makeDurable,
  nodeIds,
  ofKind,
  sent,
  tombstones,
  valueRecord,
  writes,
} from './fake-context.js';

const self = nodeIds(1)[0]!;
const client: Origin = { kind: 'client', reqId: 7 };
const bytes = new TextEncoder().encode('v');

function setup(limits: Partial<CoreLimits> = {}) {
  const peers = new Peers(self, null);
  const node = fakeContext({ peers, limits });
  const forwarder = new Forwarder(node.ctx, 100);
  let coordinator: Coordinator | null = null;
  const reaper = new Reaper(node.ctx, (key) => coordinator!.isBusy(key));
  coordinator = new Coordinator(node.ctx, peers, forwarder, reaper);
  const { ring } = node.ctx;
  /** A key this node replicates (first in the list, so the others are the peers). */
  const mine = keyWhere(ring, 3, (p) => p[0] === self);
  /** A key this node does not replicate. */
  const foreign = keyWhere(ring, 3, (p) => !p.includes(self));
  return { node, peers, forwarder, reaper, coordinator, mine, foreign };
}

function putOf(key: string, extra: Partial<PutRequest> = {}): PutRequest {
  return { op: 'put', key, value: bytes, context: [], w: 2, timeoutMs: 500, ...extra };
}

function getOf(key: string, extra: Partial<GetRequest> = {}): GetRequest {
  return { op: 'get', key, r: 2, timeoutMs: 500, ...extra };
}

/** Runs a put up to its fan-out: its own copy durable and sent to the other targets. */
function fanOutPut(t: ReturnType<typeof setup>, request: PutRequest, origin = client) {
  const started = new Effects();
  t.coordinator.coordinate(request, origin, started);
  const [then] = makeDurable(t.node, started);
  expect(then?.kind).toBe('self-ack');
  const fanOut = (then as { fanOut: FanOut }).fanOut;
  const out = new Effects();
  t.coordinator.selfDurable(fanOut, (then as { sent: boolean }).sent, out);
  return { started, out, fanOut, timerId: lastTimer(started).timerId };
}

describe('Coordinator: refusals', () => {
  it.each<[string, DataRequest]>([
    ['empty key', getOf('')],
    ['r of 0', getOf('k', { r: 0 })],
    ['r above n', getOf('k', { r: 4 })],
    ['pr above r', getOf('k', { r: 1, pr: 2 })],
    ['w of 0', putOf('k', { w: 0 })],
    ['w above n', putOf('k', { w: 4 })],
    ['pw above w', putOf('k', { w: 1, pw: 2 })],
    ['timeout below 1 ms', putOf('k', { timeoutMs: 0 })],
  ])("answers 'invalid' for %s, with no other effect", (_label, request) => {
    const t = setup();
    const out = new Effects();
    t.coordinator.coordinate(request, client, out);
    expect(out.list).toEqual([
      { kind: 'reply', reqId: 7, result: expect.objectContaining({ error: 'invalid' }) },
    ]);
    expect(t.coordinator.inFlight).toBe(0);
  });

  it("answers 'overload' at inFlightMax, counting forwards toward it", () => {
    const t = setup({ inFlightMax: 1 });
    const out = new Effects();
    t.coordinator.coordinate(putOf(t.foreign), client, out);
    expect(sent(out, 'forward')).toHaveLength(1);
    expect(t.coordinator.inFlight).toBe(1);
    const refused = new Effects();
    t.coordinator.coordinate(getOf(t.mine), { kind: 'client', reqId: 8 }, refused);
    expect(refused.list).toEqual([
      { kind: 'reply', reqId: 8, result: expect.objectContaining({ error: 'overload' }) },
    ]);
    expect(t.coordinator.stats.overloaded).toBe(1);
  });

  it('forwards a put for a key this node does not replicate, and persists nothing', () => {
    const t = setup();
    const out = new Effects();
    t.coordinator.coordinate(putOf(t.foreign), client, out);
    const primaries = t.node.ctx.ring.preferenceList(t.foreign, 3);
    expect(sent(out, 'forward').map((s) => s.to)).toEqual([primaries[0]]);
    expect(ofKind(out, 'persist')).toEqual([]);
    expect(t.forwarder.stats.forwarded).toBe(1);
  });
});

describe('Coordinator: puts', () => {
  it('persists its own copy first and fans out only once that copy is durable', () => {
    const t = setup();
    const started = new Effects();
    t.coordinator.coordinate(putOf(t.mine, { trace: 'tr' }), client, started);
    const data = writes(started, 'data');
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ key: t.mine });
    expect(sent(started, 'replica-put')).toEqual([]);
    expect(lastTimer(started).delayMs).toBe(500);
    expect(ofKind(started, 'reply')).toEqual([]);

    const [then] = makeDurable(t.node, started);
    const out = new Effects();
    const { fanOut, sent: copiesSent } = then as { fanOut: FanOut; sent: boolean };
    t.coordinator.selfDurable(fanOut, copiesSent, out);
    const others = t.node.ctx.ring.preferenceList(t.mine, 3).slice(1);
    const puts = sent(out, 'replica-put');
    expect(puts.map((s) => s.to)).toEqual(others);
    const record = (data[0] as { record: unknown }).record;
    for (const { message } of puts) {
      expect(message).toMatchObject({ key: t.mine, record, trace: 'tr' });
      expect(message.hintFor).toBeUndefined();
    }
    expect(ofKind(out, 'reply')).toEqual([]); // only its own ack so far, w = 2
  });

  it('answers ok once W acks (its own included) arrived, and cancels the timer', () => {
    const t = setup();
    const { out, fanOut, timerId } = fanOutPut(t, putOf(t.mine));
    const peer = fanOut.targets[1]!.node;
    t.coordinator.onPutAck(peer, fanOut.opId, out);
    expect(ofKind(out, 'cancel-timer')).toEqual([{ kind: 'cancel-timer', timerId }]);
    expect(ofKind(out, 'reply')).toEqual([
      {
        kind: 'reply',
        reqId: 7,
        result: { ok: true, op: 'put', acked: 2, coordinator: self, sloppy: false, siblings: 1 },
      },
    ]);
    expect(t.coordinator.roundStats.putsOk).toBe(1);
    expect(t.coordinator.inFlight).toBe(0);
    // A third ack is late.
    t.coordinator.onPutAck(fanOut.targets[2]!.node, fanOut.opId, new Effects());
    expect(t.coordinator.roundStats.lateReplies).toBe(1);
  });

  it("sends a down primary's copy to a stand-in with hintFor, and calls the result sloppy", () => {
    const t = setup();
    const primaries = t.node.ctx.ring.preferenceList(t.mine, 3);
    const down = primaries[1]!;
    t.peers.onStatus(down, false);
    const { out, fanOut } = fanOutPut(t, putOf(t.mine));
    const hinted = sent(out, 'replica-put').filter((s) => s.message.hintFor === down);
    expect(hinted).toHaveLength(1);
    const standIn = hinted[0]!.to;
    expect(primaries).not.toContain(standIn);
    expect(sent(out, 'replica-put').map((s) => s.to)).not.toContain(down);
    t.coordinator.onPutAck(standIn, fanOut.opId, out);
    expect(ofKind(out, 'reply')[0]!.result).toMatchObject({ ok: true, acked: 2, sloppy: true });
    expect(t.coordinator.roundStats.sloppyPuts).toBe(1);
  });

  it('fails at once when nacks leave too few targets for W', () => {
    const t = setup();
    const { out, fanOut } = fanOutPut(t, putOf(t.mine, { w: 3 }));
    t.coordinator.onPutNack(fanOut.targets[1]!.node, fanOut.opId, out);
    expect(ofKind(out, 'reply')).toEqual([
      { kind: 'reply', reqId: 7, result: { ok: false, error: 'quorum', needed: 3, acked: 1 } },
    ]);
    expect(t.coordinator.roundStats.quorumFailures).toBe(1);
    expect(t.coordinator.inFlight).toBe(0);
  });

  it('fails on its timer with how many acked, and suspects the targets that stayed silent', () => {
    const t = setup();
    const { out, fanOut, timerId } = fanOutPut(t, putOf(t.mine, { w: 3 }));
    const [, acker, silent] = fanOut.targets.map((target) => target.node) as NodeId[];
    t.coordinator.onPutAck(acker!, fanOut.opId, out);
    const fired = new Effects();
    expect(t.node.timers.fire(timerId, fired)).toBe(true);
    expect(ofKind(fired, 'reply')).toEqual([
      { kind: 'reply', reqId: 7, result: { ok: false, error: 'quorum', needed: 3, acked: 2 } },
    ]);
    expect(t.peers.isDown(silent!)).toBe(true);
    expect(t.peers.isDown(acker!)).toBe(false);
    expect(t.peers.suspectedCount).toBe(1);
  });

  it('fails at once without enough live targets for W', () => {
    const t = setup();
    const primaries = t.node.ctx.ring.preferenceList(t.mine, 3);
    for (const id of t.node.ids) if (!primaries.includes(id)) t.peers.onStatus(id, false);
    t.peers.onStatus(primaries[1]!, false);
    const out = new Effects();
    t.coordinator.coordinate(putOf(t.mine, { w: 3 }), client, out);
    expect(out.list).toEqual([
      { kind: 'reply', reqId: 7, result: { ok: false, error: 'quorum', needed: 3, acked: 0 } },
    ]);
  });

  it('runs a retried request id once: joins it in flight, answers it again once done', () => {
    const t = setup();
    const request = putOf(t.mine, { rid: 'r1' });
    const started = new Effects();
    t.coordinator.coordinate(request, client, started);
    const retry = new Effects();
    t.coordinator.coordinate(request, { kind: 'client', reqId: 8 }, retry);
    expect(retry.list).toEqual([]); // no second persist, no second timer
    const [then] = makeDurable(t.node, started);
    const { fanOut } = then as { fanOut: FanOut };
    const out = new Effects();
    t.coordinator.selfDurable(fanOut, (then as { sent: boolean }).sent, out);
    t.coordinator.onPutAck(fanOut.targets[1]!.node, fanOut.opId, out);
    expect(ofKind(out, 'reply').map((r) => r.reqId)).toEqual([7, 8]);
    const again = new Effects();
    t.coordinator.coordinate(request, { kind: 'client', reqId: 9 }, again);
    expect(ofKind(again, 'persist')).toEqual([]);
    expect(ofKind(again, 'reply')).toEqual([
      { kind: 'reply', reqId: 9, result: ofKind(out, 'reply')[0]!.result },
    ]);
    expect(t.coordinator.roundStats.retriesDeduplicated).toBe(2);
  });

  it('runs a request id reused for another key as a write of its own, in flight and done', () => {
    const t = setup();
    // Another key with the same preference list as `mine` (so the same peers ack it).
    const same = t.node.ctx.ring.preferenceList(t.mine, 3).join();
    let other = '';
    for (let i = 0; other === '' && i < 10_000; i++) {
      const key = `other-${i}`;
      if (t.node.ctx.ring.preferenceList(key, 3).join() === same) other = key;
    }
    expect(other).not.toBe('');
    const first = new Effects();
    t.coordinator.coordinate(putOf(t.mine, { rid: 'shared' }), client, first);
    const inFlight = new Effects();
    t.coordinator.coordinate(
      putOf(other, { rid: 'shared' }),
      { kind: 'client', reqId: 8 },
      inFlight,
    );
    expect(ofKind(inFlight, 'persist')).toHaveLength(1); // its own write, not a join
    const [then] = makeDurable(t.node, first);
    const { fanOut } = then as { fanOut: FanOut };
    const out = new Effects();
    t.coordinator.selfDurable(fanOut, (then as { sent: boolean }).sent, out);
    t.coordinator.onPutAck(fanOut.targets[1]!.node, fanOut.opId, out);
    expect(ofKind(out, 'reply').map((r) => r.reqId)).toEqual([7]);
    const afterDone = new Effects();
    t.coordinator.coordinate(
      putOf(other, { rid: 'shared' }),
      { kind: 'client', reqId: 9 },
      afterDone,
    );
    expect(ofKind(afterDone, 'reply')).toEqual([]); // not answered with the first key's result
    expect(t.coordinator.roundStats.retriesDeduplicated).toBe(1); // the second try of `other`
  });
});

describe("Coordinator: supersede: 'local'", () => {
  /** The record a put leaves on this node, given what the node held before. */
  function putOver(held: ReturnType<typeof valueRecord> | null, extra: Partial<PutRequest>) {
    const t = setup();
    if (held !== null) t.node.store.apply([{ ns: 'data', key: t.mine, record: held }]);
    const { fanOut } = fanOutPut(t, putOf(t.mine, extra));
    return fanOut.record;
  }

  it('supersedes every version the coordinator holds, with no context from the client', () => {
    const held = sync(valueRecord('a', 'x', 4), valueRecord('b', 'y', 2));
    expect(held.siblings).toHaveLength(2);
    const record = putOver(held, { supersede: 'local' });
    expect(record.siblings).toHaveLength(1);
    expect(record.siblings[0]!.dot[0]).toBe(`${self}.a`);
    expect(record.siblings[0]!.past).toEqual([
      ['x', 4],
      ['y', 2],
    ]);
  });

  it('without it, a blind put is a sibling of what the coordinator holds', () => {
    const record = putOver(valueRecord('a', 'x', 4), {});
    expect(record.siblings.map((s) => s.dot[0]).sort()).toEqual([`${self}.a`, 'x']);
  });

  it('merges the local context with the one the client sent, and keeps working on a new key', () => {
    const record = putOver(valueRecord('a', 'x', 4), { supersede: 'local', context: [['z', 9]] });
    expect(record.siblings).toHaveLength(1);
    expect(record.siblings[0]!.past).toEqual([
      ['x', 4],
      ['z', 9],
    ]);
    expect(putOver(null, { supersede: 'local' }).siblings).toHaveLength(1);
  });
});

describe('Coordinator: gets', () => {
  it('asking every target (readSpeculateMs 0): answers after R, then repairs a stale primary', () => {
    const t = setup({ readSpeculateMs: 0 });
    const primaries = t.node.ctx.ring.preferenceList(t.foreign, 3);
    const out = new Effects();
    t.coordinator.coordinate(getOf(t.foreign, { trace: 'tr' }), client, out);
    const gets = sent(out, 'replica-get');
    expect(gets.map((s) => s.to)).toEqual(primaries);
    const { opId } = gets[0]!.message;
    const old = valueRecord('old', 'w', 1);
    const fresh = sync(old, valueRecord('new', 'x', 1));
    t.coordinator.onGetReply(primaries[0]!, opId, fresh, out);
    expect(ofKind(out, 'reply')).toEqual([]);
    t.coordinator.onGetReply(primaries[1]!, opId, fresh, out);
    expect(ofKind(out, 'reply')).toEqual([
      {
        kind: 'reply',
        reqId: 7,
        result: {
          ok: true,
          op: 'get',
          record: fresh,
          replies: 2,
          coordinator: self,
          sloppy: false,
        },
      },
    ]);
    expect(sent(out, 'repair')).toEqual([]);
    t.coordinator.onGetReply(primaries[2]!, opId, old, out);
    const repairs = sent(out, 'repair');
    expect(repairs.map((s) => s.to)).toEqual([primaries[2]]);
    expect(repairs[0]!.message).toMatchObject({ key: t.foreign, record: fresh, trace: 'tr' });
    expect(t.coordinator.roundStats.readRepairs).toBe(1);
    expect(t.coordinator.inFlight).toBe(0);
  });

  it('hands a key every primary holds only as tombstones to the reaper', () => {
    const t = setup();
    const primaries = t.node.ctx.ring.preferenceList(t.foreign, 3);
    const out = new Effects();
    t.coordinator.coordinate(getOf(t.foreign), client, out);
    const { opId } = sent(out, 'replica-get')[0]!.message;
    const dead = tombstones(['w', 4]);
    for (const p of primaries) t.coordinator.onGetReply(p, opId, dead, out);
    expect(t.reaper.pending).toBe(1);
    expect(t.coordinator.isBusy(t.foreign)).toBe(false);
    // The first two asked held only tombstones, so the get asked the third too.
    expect(t.coordinator.roundStats.readsWidened).toBe(1);
  });
});

/**
 * A get of a key this node does not replicate, with readSpeculateMs 20, coordinated up to its
 * first replica-gets: they go to the first `r` primaries (the spare waits).
 */
function targetedGet(r: number) {
  const t = setup({ readSpeculateMs: 20 });
  const primaries = t.node.ctx.ring.preferenceList(t.foreign, 3);
  const out = new Effects();
  t.coordinator.coordinate(getOf(t.foreign, { r }), client, out);
  const first = sent(out, 'replica-get');
  expect(first.map((s) => s.to)).toEqual(primaries.slice(0, r));
  return { t, primaries, out, first };
}

describe('Coordinator: targeted reads (readSpeculateMs > 0)', () => {
  it('asks R targets, itself first, and answers without asking the rest', () => {
    const t = setup({ readSpeculateMs: 20 });
    const primaries = t.node.ctx.ring.preferenceList(t.mine, 3);
    expect(primaries[0]).toBe(self);
    const out = new Effects();
    t.coordinator.coordinate(getOf(t.mine), client, out);
    const gets = sent(out, 'replica-get');
    expect(gets.map((s) => s.to)).toEqual(primaries.slice(0, 2));
    const speculation = ofKind(out, 'set-timer').find((x) => x.delayMs === 20);
    expect(speculation).toBeDefined();
    const { opId } = gets[0]!.message;
    const value = valueRecord('v', 'w', 1);
    t.coordinator.onGetReply(primaries[0]!, opId, value, out);
    t.coordinator.onGetReply(primaries[1]!, opId, value, out);
    expect(ofKind(out, 'reply')[0]!.result).toMatchObject({ ok: true, replies: 2 });
    expect(ofKind(out, 'cancel-timer').map((x) => x.timerId)).toContain(speculation!.timerId);
    expect(t.coordinator.inFlight).toBe(0);
    expect(t.coordinator.roundStats.readsWidened).toBe(0);
    // A reply from the target never asked counts as late, never toward the quorum.
    t.coordinator.onGetReply(primaries[2]!, opId, value, out);
    expect(t.coordinator.roundStats.lateReplies).toBe(1);
  });

  it('asks the spare when the first asked are slower than readSpeculateMs', () => {
    const { t, primaries, out, first } = targetedGet(2);
    const { opId } = first[0]!.message;
    const value = valueRecord('v', 'w', 1);
    t.coordinator.onGetReply(primaries[0]!, opId, value, out);
    const speculation = ofKind(out, 'set-timer').find((x) => x.delayMs === 20)!;
    const fired = new Effects();
    expect(t.node.timers.fire(speculation.timerId, fired)).toBe(true);
    expect(sent(fired, 'replica-get').map((s) => s.to)).toEqual([primaries[2]]);
    t.coordinator.onGetReply(primaries[2]!, opId, value, fired);
    expect(ofKind(fired, 'reply')[0]!.result).toMatchObject({ ok: true, replies: 2 });
    expect(t.coordinator.roundStats.readsWidened).toBe(1);
    // The slow one still answers, stale: read repair covers every target asked.
    t.coordinator.onGetReply(primaries[1]!, opId, null, fired);
    expect(sent(fired, 'repair').map((s) => s.to)).toEqual([primaries[1]]);
    expect(t.coordinator.inFlight).toBe(0);
  });

  it('does not speculate once the get has answered', () => {
    const { t, primaries, out, first } = targetedGet(1);
    t.coordinator.onGetReply(primaries[0]!, first[0]!.message.opId, valueRecord('v'), out);
    expect(ofKind(out, 'reply')).toHaveLength(1);
    expect(t.coordinator.inFlight).toBe(0);
    const speculation = ofKind(out, 'set-timer').find((x) => x.delayMs === 20)!;
    expect(ofKind(out, 'cancel-timer').map((x) => x.timerId)).toContain(speculation.timerId);
  });

  it('arms no speculation when readSpeculateMs is not below the request timeout', () => {
    const t = setup({ readSpeculateMs: 5000 });
    const out = new Effects();
    t.coordinator.coordinate(getOf(t.foreign, { r: 2, timeoutMs: 1000 }), client, out);
    expect(sent(out, 'replica-get')).toHaveLength(2);
    expect(ofKind(out, 'set-timer').map((x) => x.delayMs)).toEqual([1000]);
  });

  it('on its deadline suspects only the targets it asked', () => {
    const t = setup({ readSpeculateMs: 5000 });
    const primaries = t.node.ctx.ring.preferenceList(t.foreign, 3);
    const out = new Effects();
    t.coordinator.coordinate(getOf(t.foreign, { r: 2, timeoutMs: 1000 }), client, out);
    const fired = new Effects();
    expect(t.node.timers.fire(lastTimer(out).timerId, fired)).toBe(true);
    expect(ofKind(fired, 'reply')[0]!.result).toMatchObject({ ok: false, error: 'quorum' });
    expect(t.peers.isDown(primaries[0]!)).toBe(true);
    expect(t.peers.isDown(primaries[1]!)).toBe(true);
    expect(t.peers.isDown(primaries[2]!)).toBe(false);
  });
});
