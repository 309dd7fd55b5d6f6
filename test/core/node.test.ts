import { describe, expect, it } from 'vitest';
import type { MerkleIndex } from '../../src/core/anti-entropy.js';
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
    for (const id of net.ids)
      expect(net.stores.get(id)!.get(key) !== undefined).toBe(prefs.includes(id));
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

  it('fails fast without sending when PW/PR primaries are known down', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.input(coordinator, { kind: 'peer-status', peer: prefs[1]!, up: false });
    net.input(coordinator, { kind: 'peer-status', peer: prefs[2]!, up: false });
    net.inflight.splice(0);
    const put = net.request(coordinator, {
      op: 'put',
      key,
      value: null,
      context: [],
      w: 2,
      pw: 2,
      timeoutMs: 100,
    });
    const get = net.request(coordinator, { op: 'get', key, r: 2, pr: 2, timeoutMs: 100 });
    expect(net.reply(put)).toEqual({ ok: false, error: 'quorum', needed: 2, acked: 0 });
    expect(net.reply(get)).toEqual({ ok: false, error: 'quorum', needed: 2, acked: 0 });
    expect(net.inflight).toHaveLength(0);
    expect(net.persists).toHaveLength(0);
  });

  it('fails fast when fewer live nodes than W exist at all', () => {
    const net = new TestNet(3);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.input(coordinator, { kind: 'peer-status', peer: prefs[1]!, up: false });
    net.input(coordinator, { kind: 'peer-status', peer: prefs[2]!, up: false });
    const put = net.put(coordinator, key, 'v', [], 2);
    expect(net.reply(put)).toEqual({ ok: false, error: 'quorum', needed: 2, acked: 0 });
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
    expect(net.inflight).toHaveLength(0); // nothing leaves before the coordinator's own persist
    net.persistOne();
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
    expect(net.stores.get(outsider)!.get(key)).toBeUndefined();
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

describe('NodeCore sloppy quorum and hinted handoff', () => {
  /** A 5-node net where the key's third replica is down, known to the coordinator. */
  function withDownReplica() {
    const net = new TestNet(5);
    const { key, prefs, coordinator, outsider } = keyWithPrefs(net);
    const down = prefs[2]!;
    net.isolated.add(down);
    for (const id of net.ids) net.input(id, { kind: 'peer-status', peer: down, up: false });
    return { net, key, prefs, coordinator, down, outsider };
  }

  it('writes to a stand-in with a hint when a replica is down; the result is sloppy', () => {
    const { net, key, prefs, coordinator, down } = withDownReplica();
    const put = net.put(coordinator, key, 'v', [], 3);
    net.settle();
    expect(net.reply(put)).toMatchObject({ ok: true, acked: 3, sloppy: true });
    const standIn = net.ids.find(
      (id) => !prefs.includes(id) && net.stores.get(id)!.count('hints') > 0,
    )!;
    expect(standIn).toBeDefined();
    expect([...net.stores.get(standIn)!.snapshot('hints').keys()]).toEqual([`${down}\u0000${key}`]);
    expect(net.stores.get(standIn)!.get(key)).toBeUndefined();
    expect(net.core(standIn).stats().hintsPending).toBe(1);
  });

  it('hands hints over when the owner is back, then deletes them', () => {
    const { net, key, coordinator, down } = withDownReplica();
    net.put(coordinator, key, 'v1', [], 3);
    net.put(coordinator, key, 'v2', [], 3);
    net.settle();
    expect(net.stores.get(down)!.get(key)).toBeUndefined();
    net.isolated.delete(down);
    for (const id of net.ids) net.input(id, { kind: 'peer-status', peer: down, up: true });
    net.fireTimers(); // the handoff tick
    net.settle();
    const owner = net.stores.get(down)!.get(key)!;
    expect(owner.siblings.map((s) => text(s.value!)).sort()).toEqual(['v1', 'v2']);
    for (const id of net.ids) expect(net.stores.get(id)!.count('hints')).toBe(0);
    const delivered = net.ids.reduce((sum, id) => sum + net.core(id).stats().hintsDelivered, 0);
    expect(delivered).toBe(1); // one hinted key, merged from both writes
  });

  it('a stand-in answers gets from its hints', () => {
    const { net, key, coordinator } = withDownReplica();
    net.put(coordinator, key, 'v', [], 3);
    net.settle();
    const get = net.get(coordinator, key, 3);
    net.settle();
    expect(net.reply(get)).toMatchObject({ ok: true, replies: 3, sloppy: true });
    expect(values(net.reply(get))).toEqual(['v']);
  });

  it('keeps hints across a stand-in restart and delivers them afterwards', () => {
    const { net, key, prefs, coordinator, down } = withDownReplica();
    net.put(coordinator, key, 'v', [], 3);
    net.settle();
    const standIn = net.ids.find(
      (id) => !prefs.includes(id) && net.stores.get(id)!.count('hints') > 0,
    )!;
    net.restart(standIn); // crash: in-memory state gone, durable hints stay
    expect(net.core(standIn).stats().hintsPending).toBe(1);
    net.isolated.delete(down);
    net.input(standIn, { kind: 'peer-status', peer: down, up: true });
    net.fireTimers();
    net.settle();
    expect(net.stores.get(down)!.get(key)).toBeDefined();
    expect(net.stores.get(standIn)!.count('hints')).toBe(0);
  });

  it('refuses hints past the per-target bound; the put then fails fast if W needs it', () => {
    const net = new TestNet(4);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    const down = prefs[2]!;
    net.isolated.add(down);
    for (const id of net.ids) {
      net.input(id, { kind: 'peer-status', peer: down, up: false });
      net.cores.set(id, net.boot(id, { hintsPerTargetMax: 1 }));
      net.input(id, { kind: 'peer-status', peer: down, up: false });
    }
    const first = net.put(coordinator, key, 'a', [], 3);
    net.settle();
    expect(net.reply(first)).toMatchObject({ ok: true, sloppy: true });
    const otherKey = Array.from({ length: 500 }, (_, i) => `k${i}`).find((k) => {
      const p = net.ring.preferenceList(k, 3);
      return p[0] === coordinator && p[1] === prefs[1] && p[2] === down; // same stand-in
    })!;
    const second = net.put(coordinator, otherKey, 'b', [], 3);
    net.settle();
    // Failed by the nack: settle() fires no timer, so this answer did not wait for the timeout.
    expect(net.reply(second)).toMatchObject({ ok: false, error: 'quorum', needed: 3 });
    expect(net.ids.reduce((sum, id) => sum + net.core(id).stats().hintsRefused, 0)).toBe(1);
    const again = net.put(coordinator, key, 'c', [], 3); // a key already hinted still merges
    net.settle();
    expect(net.reply(again)).toMatchObject({ ok: true, sloppy: true });
  });

  it('suspects a replica that let a request time out and routes around it next time', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.isolated.add(prefs[2]!); // partitioned: no peer-status, only silence
    const first = net.put(coordinator, key, 'a', [], 3);
    net.settle();
    net.fireTimers();
    expect(net.reply(first)).toMatchObject({ ok: false, error: 'quorum', acked: 2 });
    expect(net.core(coordinator).stats().suspected).toBe(1);
    const second = net.put(coordinator, key, 'b', [], 3);
    net.settle();
    expect(net.reply(second)).toMatchObject({ ok: true, sloppy: true });
  });
});

describe('NodeCore Merkle trees', () => {
  it('keep every tree equal to one rebuilt from the local view through writes, deletes and reaps', () => {
    const net = new TestNet(5);
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    for (const key of keys) net.put(keyWithPrefs(net, key).coordinator, key, 'v1', [], 3);
    net.settle();
    for (const key of keys.slice(0, 20)) net.put(keyWithPrefs(net, key).coordinator, key, 'v2');
    for (const id of net.ids)
      expect(net.core(id).treesOutOfStep(), `${id}, writes pending`).toEqual([]);
    net.settle();
    const first = keyWithPrefs(net, keys[0]);
    const get = net.get(first.coordinator, first.key, 3);
    net.settle();
    net.put(first.coordinator, first.key, null, contextOf(record(net.reply(get))!), 3);
    net.settle();
    net.timers.splice(0);
    net.get(first.coordinator, first.key, 3);
    net.settle();
    net.fireTimers();
    net.settle();
    for (const id of first.prefs) expect(net.stores.get(id)!.get(first.key)).toBeUndefined(); // reaped
    for (const id of net.ids) expect(net.core(id).treesOutOfStep(), id).toEqual([]);
  });

  it('report a tree a write did not reach', () => {
    const net = new TestNet(5);
    const { key, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'v', [], 3);
    net.settle();
    const index = (net.core(coordinator) as unknown as { antiEntropy: { index: MerkleIndex } })
      .antiEntropy.index;
    const partition = net.ring.partitionOf(key);
    index.updateIn(partition, key, net.stores.get(coordinator)!.get(key), null); // a lost removal
    expect(net.core(coordinator).treesOutOfStep()).toEqual([partition]);
  });
});

describe('NodeCore read repair and tombstone reaping', () => {
  it('repairs a replica that missed a write after a get that saw it (asking every replica)', () => {
    const net = new TestNet(5);
    for (const id of net.ids) net.restart(id, { readSpeculateMs: 0 });
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.isolated.add(prefs[2]!);
    net.put(coordinator, key, 'v', [], 2);
    net.settle();
    net.fireTimers();
    net.isolated.delete(prefs[2]!);
    for (const id of net.ids) net.input(id, { kind: 'peer-status', peer: prefs[2]!, up: true });
    const get = net.get(coordinator, key, 2);
    net.settle();
    expect(values(net.reply(get))).toEqual(['v']);
    expect(net.stores.get(prefs[2]!)!.get(key)!.siblings).toHaveLength(1);
    expect(net.core(coordinator).stats().readRepairs).toBe(1);
  });

  it('reaps a tombstone all replicas hold after the grace period, and only then', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'v', [], 3);
    net.settle();
    const get = net.get(coordinator, key, 3);
    net.settle();
    net.put(coordinator, key, null, contextOf(record(net.reply(get))!), 3);
    net.settle();
    net.timers.splice(0); // forget earlier timers (ticks) so only the reap timer fires below
    net.get(coordinator, key, 3);
    net.settle();
    for (const id of prefs) expect(net.stores.get(id)!.get(key)).toBeDefined();
    expect(net.timers.some((t) => t.delayMs === 100)).toBe(true); // the grace timer
    net.fireTimers();
    net.settle();
    for (const id of prefs) expect(net.stores.get(id)!.get(key)).toBeUndefined();
  });

  it('does not reap while a replica lacks the tombstone', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'v', [], 3);
    net.settle();
    const get = net.get(coordinator, key, 3);
    net.settle();
    net.isolated.add(prefs[2]!);
    net.put(coordinator, key, null, contextOf(record(net.reply(get))!), 2);
    net.settle();
    net.timers.splice(0);
    net.get(coordinator, key, 2);
    net.settle();
    net.fireTimers(); // the get times out waiting for the isolated replica; no reap timer
    net.settle();
    net.fireTimers();
    net.settle();
    expect(net.stores.get(prefs[0]!)!.get(key)).toBeDefined();
  });

  it('a write after a reap gets a dot no old context covers', () => {
    const net = new TestNet(3);
    const { key, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'old', [], 3);
    net.settle();
    const g1 = net.get(coordinator, key, 3);
    net.settle();
    const oldContext = contextOf(record(net.reply(g1))!);
    net.put(coordinator, key, null, oldContext, 3);
    net.settle();
    net.timers.splice(0);
    net.get(coordinator, key, 3);
    net.settle();
    net.fireTimers();
    net.settle();
    expect(net.stores.get(coordinator)!.get(key)).toBeUndefined();
    net.put(coordinator, key, 'new', [], 3);
    net.settle();
    net.put(coordinator, key, 'stale-writer', oldContext, 3); // must not supersede 'new'
    net.settle();
    const g2 = net.get(coordinator, key, 3);
    net.settle();
    expect(values(net.reply(g2))).toEqual(['new', 'stale-writer']);
  });
});

describe('NodeCore retries, bounds and counters', () => {
  function putWithRid(net: TestNet, node: NodeId, key: string, value: string, rid: string) {
    const bytes = new TextEncoder().encode(value);
    return net.request(node, {
      op: 'put',
      key,
      value: bytes,
      context: [],
      w: 2,
      timeoutMs: 1000,
      rid,
    });
  }

  it('a retried put with the same request id creates no second sibling', () => {
    const net = new TestNet(5);
    const { key, coordinator } = keyWithPrefs(net);
    const first = putWithRid(net, coordinator, key, 'v', 'req-1');
    const retry = putWithRid(net, coordinator, key, 'v', 'req-1'); // while the first is in flight
    net.settle();
    const late = putWithRid(net, coordinator, key, 'v', 'req-1'); // after it finished
    net.settle();
    for (const id of [first, retry, late]) expect(net.reply(id)).toMatchObject({ ok: true });
    const get = net.get(coordinator, key, 3);
    net.settle();
    expect(values(net.reply(get))).toEqual(['v']);
    expect(net.core(coordinator).stats().retriesDeduplicated).toBe(2);
  });

  it('a retry reaching a restarted coordinator that holds the write reuses it', () => {
    const net = new TestNet(5);
    const { key, prefs, coordinator } = keyWithPrefs(net);
    net.isolated.add(prefs[1]!);
    net.isolated.add(prefs[2]!);
    putWithRid(net, coordinator, key, 'v', 'req-2');
    net.settle(); // durable on the coordinator only; the client hears nothing
    net.restart(coordinator);
    net.isolated.clear();
    const retry = putWithRid(net, coordinator, key, 'v', 'req-2');
    net.settle();
    expect(net.reply(retry)).toMatchObject({ ok: true });
    const get = net.get(coordinator, key, 3);
    net.settle();
    expect(record(net.reply(get))!.siblings).toHaveLength(1);
  });

  it('answers with an overload error past inFlightMax', () => {
    const net = new TestNet(3);
    const { key, coordinator } = keyWithPrefs(net);
    net.cores.set(coordinator, net.boot(coordinator, { inFlightMax: 2 }));
    const ids = [0, 1, 2].map(() => net.get(coordinator, key, 2));
    expect(net.reply(ids[2]!)).toMatchObject({ ok: false, error: 'overload' });
    net.settle();
    expect(net.reply(ids[0]!)).toMatchObject({ ok: true });
    expect(net.core(coordinator).stats().overloaded).toBe(1);
  });

  it('refuses a blind put past the sibling limit; a put with the context resolves', () => {
    const net = new TestNet(3);
    const { key, coordinator } = keyWithPrefs(net);
    net.cores.set(coordinator, net.boot(coordinator, { siblingsMax: 3 }));
    const ids = ['a', 'b', 'c', 'd'].map((v) => {
      const id = net.put(coordinator, key, v, [], 1);
      net.settle();
      return id;
    });
    expect(net.reply(ids[2]!)).toMatchObject({ ok: true, siblings: 3 });
    expect(net.reply(ids[3]!)).toMatchObject({ ok: false, error: 'conflict' });
    const get = net.get(coordinator, key, 1);
    net.settle();
    const fixed = net.put(coordinator, key, 'abc', contextOf(record(net.reply(get))!), 1);
    net.settle();
    expect(net.reply(fixed)).toMatchObject({ ok: true, siblings: 1 });
  });

  it('reserves dot counters durably, so a restarted node never reissues one', () => {
    const net = new TestNet(3);
    const { key, coordinator } = keyWithPrefs(net);
    net.put(coordinator, key, 'a', [], 3);
    net.settle();
    const reserved = net.stores.get(coordinator)!.getMeta('counterReserved') as number;
    expect(reserved).toBeGreaterThan(1);
    net.restart(coordinator);
    net.put(coordinator, 'other-key', 'b', [], 1);
    net.settle();
    const dot = net.stores.get(coordinator)!.get('other-key')!.siblings[0]!.dot;
    expect(dot[1]).toBeGreaterThan(reserved);
  });
});

describe('NodeCore Merkle anti-entropy', () => {
  it('a replica that missed writes (no hints, no reads) converges by anti-entropy alone', () => {
    const net = new TestNet(5);
    const keys = Array.from({ length: 40 }, (_, i) => `ae-${i}`);
    const lagging = net.ids[4]!;
    net.isolated.add(lagging); // silent: no peer-status, so no stand-ins and no hints
    for (const key of keys) {
      const coordinator = net.ring.preferenceList(key, 3).find((id) => id !== lagging)!;
      net.put(coordinator, key, `v-${key}`, [], 2);
    }
    net.settle();
    net.isolated.delete(lagging);
    const missing = () =>
      keys.filter(
        (k) =>
          net.ring.preferenceList(k, 3).includes(lagging) &&
          net.stores.get(lagging)!.get(k) === undefined,
      );
    expect(missing().length).toBeGreaterThan(5);
    for (let round = 0; round < 12 && missing().length > 0; round++) {
      net.fireTimers(); // handoff ticks, anti-entropy ticks, expired request timers
      net.settle();
    }
    expect(missing()).toEqual([]);
    for (const key of keys) {
      const dots = net.ring.preferenceList(key, 3).map((id) =>
        JSON.stringify(
          net.stores
            .get(id)!
            .get(key)!
            .siblings.map((s) => s.dot),
        ),
      );
      expect(new Set(dots).size).toBe(1);
    }
    const repaired = net.ids.reduce((sum, id) => sum + net.core(id).stats().aeKeysRepaired, 0);
    expect(repaired).toBeGreaterThan(5);
    expect(net.ids.reduce((sum, id) => sum + net.core(id).stats().hintsStored, 0)).toBe(0);
  });

  it('replicas in sync settle each exchange with one round trip', () => {
    const net = new TestNet(3);
    net.put(net.ids[0]!, 'k', 'v', [], 3);
    net.settle();
    net.fireTimers();
    net.settle();
    const stats = net.ids.map((id) => net.core(id).stats());
    expect(stats.reduce((sum, s) => sum + s.aeExchanges, 0)).toBe(3);
    expect(stats.reduce((sum, s) => sum + s.aeExchangesInSync, 0)).toBe(3);
    expect(stats.reduce((sum, s) => sum + s.aeKeysRepaired, 0)).toBe(0);
  });

  it('drops malformed anti-entropy answers without throwing', () => {
    const net = new TestNet(3);
    const [a, b] = net.ids as [NodeId, NodeId];
    const bad = [
      { type: 'ae-descend', v: PROTOCOL_VERSION, xid: 1, partition: 0, paths: [[99, 99, 99]] },
      {
        type: 'ae-descend-reply',
        v: PROTOCOL_VERSION,
        xid: 1,
        partition: 0,
        nodes: [
          {
            path: [0, 0],
            bucket: [
              ['b', 1],
              ['a', 2],
            ],
          },
        ],
      },
      { type: 'ae-push', v: PROTOCOL_VERSION, xid: 1, records: [], want: ['x'] },
    ];
    for (const message of bad)
      expect(() => net.input(a, { kind: 'message', from: b, message })).not.toThrow();
  });
});

describe('NodeCore bounds on forwarded puts', () => {
  it('counts forwarded puts toward inFlightMax', () => {
    const net = new TestNet(5);
    const { key, outsider } = keyWithPrefs(net);
    net.cores.set(outsider, net.boot(outsider, { inFlightMax: 2 }));
    const ids = [0, 1, 2].map(() => net.put(outsider, key, 'v'));
    expect(net.reply(ids[2]!)).toMatchObject({ ok: false, error: 'overload' });
    expect(net.core(outsider).stats()).toMatchObject({ forwarded: 2, overloaded: 1, inFlight: 2 });
    net.settle();
    expect(net.reply(ids[0]!)).toMatchObject({ ok: true });
  });
});
