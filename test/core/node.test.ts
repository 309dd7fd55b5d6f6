import { describe, expect, it } from 'vitest';
import type { ClientResult } from '../../src/core/messages.js';
import { PROTOCOL_VERSION } from '../../src/core/messages.js';
import type { KeyRecord, NodeId } from '../../src/core/types.js';
import { contextOf, liveValues } from '../../src/core/version.js';
import { TestNet, text } from './harness.js';

function record(result: ClientResult | undefined): KeyRecord | null {
  if (result === undefined || !result.ok || result.op !== 'get') {
    throw new Error(`expected a successful get, got ${JSON.stringify(result)}`);
  }
  return result.record;
}

function values(result: ClientResult | undefined): string[] {
  const r = record(result);
  return r === null ? [] : liveValues(r).map(text).sort();
}

/** A key and its preference list on the test ring. */
function keyWithPrefs(net: TestNet, key = 'k') {
  const prefs = net.ring.preferenceList(key, net.n) as NodeId[];
  const outsider = net.ids.find((id) => !prefs.includes(id))!;
  return { key, prefs, coordinator: prefs[0]!, outsider };
}

describe('NodeCore put/get quorums', () => {
  it('replies to a put after W durable acks and reads the value back', () => {
    const net = new TestNet(5);
    const { key, coordinator } = keyWithPrefs(net);
    const put = net.put(coordinator, key, 'v1');
    expect(net.reply(put)).toBeUndefined(); // nothing is durable yet
    net.settle();
    expect(net.reply(put)).toMatchObject({ ok: true, op: 'put', coordinator });
    const get = net.get(coordinator, key);
    net.settle();
    expect(values(net.reply(get))).toEqual(['v1']);
  });

  it('stores the write on all N replicas and nowhere else', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'v1');
    net.settle();
    for (const id of net.ids) expect(net.stores.get(id)!.has(key)).toBe(prefs.includes(id));
  });

  it('acks a replica write only after it is persisted', () => {
    const net = new TestNet(5);
    const { key, coordinator } = keyWithPrefs(net);
    const put = net.put(coordinator, key, 'v1', [], 3);
    while (net.deliverOne()); // deliver every message, complete no persist
    expect(net.reply(put)).toBeUndefined();
    expect(net.inflight).toHaveLength(0);
    net.settle();
    expect(net.reply(put)).toMatchObject({ ok: true, acked: 3 });
  });

  it('two blind puts become two siblings; a put with their context resolves them', () => {
    const net = new TestNet(5);
    const { key, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'a');
    net.put(coordinator, key, 'b');
    net.settle();
    const get = net.get(coordinator, key, 3);
    net.settle();
    expect(values(net.reply(get))).toEqual(['a', 'b']);
    const context = contextOf(record(net.reply(get))!);
    net.put(coordinator, key, 'c', context, 3);
    net.settle();
    const after = net.get(coordinator, key, 3);
    net.settle();
    expect(values(net.reply(after))).toEqual(['c']);
  });

  it('a context read from a replica that missed a write never covers that write', () => {
    // Regression: when replicas received only the new sibling, a replica that missed dot
    // (n, 1) but got (n, 2) returned a context {n: 2}; a put with it silently dropped (n, 1).
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    const lagging = prefs[2]!;
    net.isolated.add(lagging);
    net.put(coordinator, key, 'first');
    net.settle();
    net.isolated.delete(lagging);
    net.put(coordinator, key, 'second', [], 3); // blind: a sibling of 'first'
    net.settle();
    const staleGet = net.get(lagging, key, 1);
    net.settle();
    const context = contextOf(record(net.reply(staleGet))!);
    net.put(coordinator, key, 'third', context, 3);
    net.settle();
    const get = net.get(coordinator, key, 3);
    net.settle();
    expect(values(net.reply(get))).toEqual(['third']); // the context saw both: nothing lost
    expect(values(net.reply(staleGet))).toEqual(['first', 'second']);
  });

  it('concurrent blind puts through different coordinators are siblings too', () => {
    const net = new TestNet(5);
    const { key, prefs } = keyWithPrefs(net);
    net.put(prefs[0]!, key, 'x');
    net.put(prefs[1]!, key, 'y');
    net.settle();
    const get = net.get(prefs[2]!, key, 3);
    net.settle();
    expect(values(net.reply(get))).toEqual(['x', 'y']);
  });

  it('a delete hides the value, keeps a context, and a later put with it revives the key', () => {
    const net = new TestNet(5);
    const { key, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'v');
    net.settle();
    const get = net.get(coordinator, key, 3);
    net.settle();
    net.put(coordinator, key, null, contextOf(record(net.reply(get))!), 3);
    net.settle();
    const deleted = net.get(coordinator, key, 3);
    net.settle();
    expect(values(net.reply(deleted))).toEqual([]);
    const tombstone = record(net.reply(deleted))!;
    expect(tombstone.siblings).toHaveLength(1);
    net.put(coordinator, key, 'again', contextOf(tombstone), 3);
    net.settle();
    const revived = net.get(coordinator, key, 3);
    net.settle();
    expect(values(net.reply(revived))).toEqual(['again']);
    expect(record(net.reply(revived))!.siblings).toHaveLength(1);
  });
});

describe('NodeCore failures and bounds', () => {
  it('fails a put with a quorum error when its timer fires before W acks', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.isolated.add(prefs[1]!);
    net.isolated.add(prefs[2]!);
    const put = net.put(coordinator, key, 'v', [], 2);
    net.settle();
    expect(net.reply(put)).toBeUndefined();
    net.fireTimers();
    expect(net.reply(put)).toEqual({ ok: false, error: 'quorum', needed: 2, acked: 1 });
    expect(net.core(coordinator).stats().inFlight).toBe(0);
  });

  it('succeeds with one replica unreachable when W=2, fails with W=3', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.isolated.add(prefs[2]!);
    const ok = net.put(coordinator, key, 'v', [], 2);
    const tooMany = net.put(coordinator, key, 'w', [], 3);
    net.settle();
    net.fireTimers();
    expect(net.reply(ok)).toMatchObject({ ok: true, acked: 2 });
    expect(net.reply(tooMany)).toEqual({ ok: false, error: 'quorum', needed: 3, acked: 2 });
  });

  it('fails fast without sending when the runtime reports too many replicas down', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.input(coordinator, { kind: 'peer-status', peer: prefs[1]!, up: false });
    net.input(coordinator, { kind: 'peer-status', peer: prefs[2]!, up: false });
    const put = net.put(coordinator, key, 'v', [], 2);
    const get = net.get(coordinator, key, 2);
    expect(net.reply(put)).toEqual({ ok: false, error: 'quorum', needed: 2, acked: 0 });
    expect(net.reply(get)).toEqual({ ok: false, error: 'quorum', needed: 2, acked: 0 });
    expect(net.inflight).toHaveLength(0);
    expect(net.persists).toHaveLength(0);
  });

  it('a get fails with a quorum error naming how many replicas answered', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.isolated.add(prefs[1]!);
    net.isolated.add(prefs[2]!);
    const get = net.get(coordinator, key, 2);
    net.settle();
    net.fireTimers();
    expect(net.reply(get)).toEqual({ ok: false, error: 'quorum', needed: 2, acked: 1 });
  });

  it('a duplicated replica-put creates no extra sibling and is acked again', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'v', [], 3);
    const replicaPut = net.inflight.find((e) => e.to === prefs[1])!;
    net.inflight.push({ ...replicaPut }); // the network duplicates it
    net.settle();
    expect(net.stores.get(prefs[1]!)!.get(key)!.siblings).toHaveLength(1);
    expect(net.core(coordinator).stats().lateReplies).toBe(1);
  });

  it('drops and counts malformed peer messages without throwing', () => {
    const net = new TestNet(3);
    const target = net.ids[0]!;
    const garbage: unknown[] = [
      null,
      42,
      'x',
      { type: 'replica-put', v: PROTOCOL_VERSION },
      { type: 'replica-put', v: 999, opId: 1, key: 'k', sibling: {} },
      { type: 'nope', v: PROTOCOL_VERSION },
      { type: 'replica-get-reply', v: PROTOCOL_VERSION, opId: 1, record: { siblings: [{}] } },
    ];
    for (const message of garbage)
      net.input(target, { kind: 'message', from: net.ids[1]!, message });
    expect(net.core(target).stats().malformedMessages).toBe(garbage.length);
  });

  it('rejects invalid requests with an error reply, sending nothing', () => {
    const net = new TestNet(3);
    const id = net.ids[0]!;
    const bad = [
      net.request(id, { op: 'get', key: '', r: 1, timeoutMs: 100 }),
      net.request(id, { op: 'get', key: 'k', r: 4, timeoutMs: 100 }),
      net.request(id, { op: 'put', key: 'k', value: null, context: [], w: 0, timeoutMs: 100 }),
      net.request(id, { op: 'get', key: 'k', r: 1, timeoutMs: 0 }),
    ];
    net.input(id, { kind: 'request', reqId: 99, request: { op: 'bogus' } });
    for (const reqId of [...bad, 99])
      expect(net.reply(reqId)).toMatchObject({ ok: false, error: 'invalid' });
    expect(net.inflight).toHaveLength(0);
  });
});

describe('NodeCore forwarding', () => {
  it('a put reaching a node outside the preference list is forwarded to a replica', () => {
    const net = new TestNet(5);
    const { key, prefs, outsider } = keyWithPrefs(net);
    const put = net.put(outsider, key, 'fwd');
    net.settle();
    expect(net.reply(put)).toMatchObject({ ok: true, op: 'put', coordinator: prefs[0] });
    expect(net.core(outsider).stats().forwarded).toBe(1);
    expect(net.stores.get(outsider)!.has(key)).toBe(false);
  });

  it('a forwarded put whose coordinator never answers times out', () => {
    const net = new TestNet(5);
    const { key, prefs, outsider } = keyWithPrefs(net);
    net.isolated.add(prefs[0]!);
    const put = net.put(outsider, key, 'fwd');
    net.settle();
    net.fireTimers();
    expect(net.reply(put)).toMatchObject({ ok: false, error: 'timeout' });
  });

  it('a get can be coordinated by any node', () => {
    const net = new TestNet(5);
    const { key, coordinator, outsider } = keyWithPrefs(net);
    net.put(coordinator, key, 'v');
    net.settle();
    const get = net.get(outsider, key);
    net.settle();
    expect(values(net.reply(get))).toEqual(['v']);
  });
});
