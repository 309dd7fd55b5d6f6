/**
 * A request's trace id travels with it: the coordinator copies ClientRequest.trace into every
 * replica-put, replica-get, forward and read-repair message it sends for the request, and a
 * request without a trace leaves the messages exactly as they were.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, parseClientRequest, parsePeerMessage } from '../../src/core/messages.js';
import type { NodeId } from '../../src/core/types.js';
import { TestNet } from './harness.js';

interface Sent {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: Record<string, unknown>;
}

/** Settles the network like TestNet.settle, recording every message delivered (bounded). */
function settleRecording(net: TestNet): Sent[] {
  const seen: Sent[] = [];
  for (let steps = 0; steps < 10_000; steps++) {
    const next = net.inflight[0];
    if (next !== undefined) {
      seen.push(next as Sent);
      net.deliverOne();
    } else if (!net.persistOne()) return seen;
  }
  throw new Error('network did not settle');
}

function ofType(sent: Sent[], type: string): Sent[] {
  return sent.filter((s) => s.message.type === type);
}

function setup() {
  const net = new TestNet(5);
  const key = 'traced-key';
  const prefs = net.ring.preferenceList(key, net.n) as NodeId[];
  const outsider = net.ids.find((id) => !prefs.includes(id))!;
  return { net, key, prefs, coordinator: prefs[0]!, outsider };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('trace ids through the coordinator', () => {
  it('a put carries its trace into every replica-put the coordinator sends', () => {
    const { net, key, prefs, coordinator } = setup();
    const put = net.request(coordinator, {
      op: 'put',
      key,
      value: bytes('v'),
      context: [],
      w: 2,
      timeoutMs: 1000,
      trace: 'trace-abc',
    });
    const puts = ofType(settleRecording(net), 'replica-put');
    expect(net.reply(put)).toMatchObject({ ok: true, op: 'put' });
    expect(puts.map((s) => s.to).sort()).toEqual(prefs.filter((id) => id !== coordinator).sort());
    for (const s of puts) {
      expect(s.from).toBe(coordinator);
      expect(s.message.trace).toBe('trace-abc');
    }
  });

  it('a get carries its trace into every replica-get', () => {
    const { net, key, prefs, coordinator } = setup();
    for (const id of net.ids) net.restart(id, { readSpeculateMs: 0 }); // ask every replica
    net.put(coordinator, key, 'v');
    net.settle();
    const get = net.request(coordinator, { op: 'get', key, r: 2, timeoutMs: 1000, trace: 't-get' });
    const gets = ofType(settleRecording(net), 'replica-get');
    expect(net.reply(get)).toMatchObject({ ok: true, op: 'get' });
    // The coordinator's own replica-get is delivered locally; the other two cross the network.
    expect(gets.map((s) => s.to).sort()).toEqual(prefs.filter((id) => id !== coordinator).sort());
    for (const s of gets) expect(s.message.trace).toBe('t-get');
  });

  it('a forwarded put carries its trace to the replica that coordinates it, and on', () => {
    const { net, key, coordinator, outsider } = setup();
    const put = net.request(outsider, {
      op: 'put',
      key,
      value: bytes('v'),
      context: [],
      w: 2,
      timeoutMs: 1000,
      trace: 'fwd-trace',
    });
    const sent = settleRecording(net);
    expect(net.reply(put)).toMatchObject({ ok: true, coordinator });
    const [forward] = ofType(sent, 'forward');
    expect(forward).toMatchObject({ from: outsider, to: coordinator });
    expect(forward!.message.trace).toBe('fwd-trace');
    const puts = ofType(sent, 'replica-put');
    expect(puts.length).toBeGreaterThan(0);
    for (const s of puts) expect(s.message.trace).toBe('fwd-trace');
  });

  it('read repair after a traced get carries the trace', () => {
    const { net, key, prefs, coordinator } = setup();
    const stale = prefs[2]!;
    net.isolated.add(stale);
    net.put(coordinator, key, 'v');
    net.settle();
    net.isolated.delete(stale);
    const get = net.request(coordinator, { op: 'get', key, r: 3, timeoutMs: 1000, trace: 'rr' });
    const repairs = ofType(settleRecording(net), 'repair');
    expect(net.reply(get)).toMatchObject({ ok: true, replies: 3 });
    expect(repairs.map((s) => s.to)).toEqual([stale]);
    expect(repairs[0]!.message.trace).toBe('rr');
  });

  it('a request without a trace sends messages without a trace field', () => {
    const { net, key, coordinator, outsider } = setup();
    net.put(outsider, key, 'v');
    net.get(coordinator, key);
    const sent = settleRecording(net);
    expect(sent.length).toBeGreaterThan(0);
    for (const s of sent) expect('trace' in s.message).toBe(false);
  });
});

describe('trace ids at the boundary', () => {
  const replicaGet = (trace: unknown) => ({
    type: 'replica-get',
    v: PROTOCOL_VERSION,
    opId: 1,
    key: 'k',
    trace,
  });

  it('parsePeerMessage accepts an optional trace of 1..128 printable ASCII characters', () => {
    expect(parsePeerMessage(replicaGet(undefined))).not.toBeNull();
    expect(parsePeerMessage(replicaGet('trace-abc'))).not.toBeNull();
    expect(parsePeerMessage(replicaGet('x'.repeat(128)))).not.toBeNull();
    expect(parsePeerMessage(replicaGet('x'.repeat(129)))).toBeNull();
    expect(parsePeerMessage(replicaGet(''))).toBeNull();
    expect(parsePeerMessage(replicaGet(42))).toBeNull();
    expect(parsePeerMessage(replicaGet('bad\nline'))).toBeNull();
    expect(parsePeerMessage(replicaGet('é'))).toBeNull();
  });

  it('checks the trace on replica-put, forward and repair, and inside a forwarded request', () => {
    const record = { siblings: [] };
    const v = PROTOCOL_VERSION;
    const request = { op: 'get', key: 'k', r: 1, timeoutMs: 10 };
    const long = 'y'.repeat(200);
    const bad = [
      { type: 'replica-put', v, opId: 1, key: 'k', record, trace: long },
      { type: 'repair', v, key: 'k', record, trace: 7 },
      { type: 'forward', v, fwdId: 1, request, trace: long },
      { type: 'forward', v, fwdId: 1, request: { ...request, trace: long } },
    ];
    for (const m of bad) expect(parsePeerMessage(m)).toBeNull();
    const good = { type: 'forward', v, fwdId: 1, request: { ...request, trace: 't' }, trace: 't' };
    expect(parsePeerMessage(good)).not.toBeNull();
    expect(parseClientRequest({ ...request, trace: long })).toBeNull();
    expect(parseClientRequest({ ...request, trace: 't' })).not.toBeNull();
  });
});
