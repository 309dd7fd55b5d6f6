/**
 * forward.ts: a put that reached a non-replica goes to the first live replica; the forwarder
 * answers its client with the coordinator's reply, or 'timeout' — never a hang.
 */
import { describe, expect, it } from 'vitest';
import { Effects } from '../../src/core/effects.js';
import { Forwarder } from '../../src/core/forward.js';
import type { ClientResult, PutRequest } from '../../src/core/messages.js';
import type { Origin } from '../../src/core/node-context.js';
import { nodeId } from '../../src/core/types.js';
import { type FakeLiveness, fakeContext, lastTimer, ofKind, sent } from './fake-context.js';

const SLACK_MS = 100;
const put: PutRequest = { op: 'put', key: 'k', value: null, context: [], w: 2, timeoutMs: 500 };
const client: Origin = { kind: 'client', reqId: 7 };
const okPut: ClientResult = {
  ok: true,
  op: 'put',
  acked: 2,
  coordinator: nodeId('n3'),
  sloppy: false,
  siblings: 1,
};

function setup() {
  const node = fakeContext();
  const liveness = node.peers as FakeLiveness;
  const forwarder = new Forwarder(node.ctx, SLACK_MS);
  const [, p2, p3, p4] = node.ids;
  return { node, liveness, forwarder, primaries: [p2!, p3!, p4!] };
}

describe('Forwarder', () => {
  it('forwards to the first live primary and waits the timeout plus the slack', () => {
    const { liveness, forwarder, primaries } = setup();
    liveness.down.add(primaries[0]!);
    const out = new Effects();
    forwarder.forwardPut({ ...put, trace: 't1' }, client, primaries, out);
    const forwards = sent(out, 'forward');
    expect(forwards).toHaveLength(1);
    expect(forwards[0]!.to).toBe(primaries[1]);
    expect(forwards[0]!.message.request).toEqual({ ...put, trace: 't1' });
    expect(forwards[0]!.message.trace).toBe('t1');
    expect(lastTimer(out).delayMs).toBe(put.timeoutMs + SLACK_MS);
    expect(forwarder.pending).toBe(1);
    expect(forwarder.stats.forwarded).toBe(1);
  });

  it("answers 'unavailable' when no primary is up", () => {
    const { liveness, forwarder, primaries } = setup();
    for (const p of primaries) liveness.down.add(p);
    const out = new Effects();
    forwarder.forwardPut(put, client, primaries, out);
    expect(ofKind(out, 'reply')).toEqual([
      { kind: 'reply', reqId: 7, result: expect.objectContaining({ error: 'unavailable' }) },
    ]);
    expect(sent(out, 'forward')).toEqual([]);
    expect(forwarder.pending).toBe(0);
  });

  it("never forwards a forwarded request again: a peer origin gets 'unavailable'", () => {
    const { node, forwarder, primaries } = setup();
    const out = new Effects();
    const origin: Origin = { kind: 'peer', from: node.ids[4]!, fwdId: 3 };
    forwarder.forwardPut(put, origin, primaries, out);
    const replies = sent(out, 'forward-reply');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.to).toBe(node.ids[4]);
    expect(replies[0]!.message).toMatchObject({ fwdId: 3, result: { error: 'unavailable' } });
    expect(sent(out, 'forward')).toEqual([]);
    expect(ofKind(out, 'set-timer')).toEqual([]);
  });

  it("relays the coordinator's reply and cancels the timer", () => {
    const { node, forwarder, primaries } = setup();
    const out = new Effects();
    forwarder.forwardPut(put, client, primaries, out);
    const { fwdId } = sent(out, 'forward')[0]!.message;
    const { timerId } = lastTimer(out);
    const after = new Effects();
    forwarder.onReply(fwdId, okPut, after);
    expect(after.list).toEqual([
      { kind: 'cancel-timer', timerId },
      { kind: 'reply', reqId: 7, result: okPut },
    ]);
    expect(forwarder.pending).toBe(0);
    expect(node.timers.armed).toBe(0);
  });

  it("answers 'timeout' when the coordinator stays silent, and counts its late reply", () => {
    const { node, forwarder, primaries } = setup();
    const out = new Effects();
    forwarder.forwardPut(put, client, primaries, out);
    const { fwdId } = sent(out, 'forward')[0]!.message;
    const fired = new Effects();
    expect(node.timers.fire(lastTimer(out).timerId, fired)).toBe(true);
    expect(ofKind(fired, 'reply')).toEqual([
      { kind: 'reply', reqId: 7, result: expect.objectContaining({ ok: false, error: 'timeout' }) },
    ]);
    expect(forwarder.pending).toBe(0);
    const late = new Effects();
    forwarder.onReply(fwdId, okPut, late);
    expect(late.list).toEqual([]);
    expect(forwarder.stats.lateForwardReplies).toBe(1);
  });
});
