/**
 * Expiry (TTL): the deadline as part of the version (version.ts), the merge rule that lets an
 * expired copy win, the Merkle hash, the deadline queue, and whole nodes (TestNet): reads never
 * return an expired value, expired data becomes tombstones the reaper removes, and a replica
 * whose clock is behind cannot bring the value back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from '../../src/core/expiry.js';
import { versionHash } from '../../src/core/merkle.js';
import type { ClientResult } from '../../src/core/messages.js';
import type { KeyRecord, NodeId, Sibling } from '../../src/core/types.js';
import {
  earliestExpiry,
  expire,
  isExpired,
  liveExpiries,
  liveValues,
  sameDots,
  sync,
  update,
} from '../../src/core/version.js';
import { TestNet, text, WALL_EPOCH_MS } from './harness.js';

const bytes = (s: string) => new TextEncoder().encode(s);

function live(counter: number, expiresAtMs?: number): Sibling {
  return {
    dot: ['a', counter],
    past: [],
    value: bytes(`v${counter}`),
    ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
  };
}

describe('a deadline in the version', () => {
  it('update puts the deadline on the new sibling, and only there', () => {
    const first = update(undefined, [], 'a', bytes('x'), { expiresAtMs: 500 });
    expect(first.sibling.expiresAtMs).toBe(500);
    const second = update(first.record, [], 'b', bytes('y'));
    expect(second.record.siblings.map((s) => s.expiresAtMs)).toEqual([500, undefined]);
    expect(liveExpiries(second.record)).toEqual([500, null]);
    expect(earliestExpiry(second.record)).toBe(500);
  });

  it('refuses a deadline on a tombstone', () => {
    expect(() => update(undefined, [], 'a', null, { expiresAtMs: 5 })).toThrow(/tombstone/);
  });

  it('expire turns values at or past their deadline into tombstones with the same dot', () => {
    const record: KeyRecord = { siblings: [live(1, 100), live(2, 200), live(3)] };
    expect(expire(record, 99)).toBe(record);
    const at100 = expire(record, 100);
    expect(at100.siblings.map((s) => s.value === null)).toEqual([true, false, false]);
    expect(at100.siblings[0]).toEqual({ dot: ['a', 1], past: [], value: null, expiresAtMs: 100 });
    expect(liveValues(expire(record, 1e15)).map(text)).toEqual(['v3']);
    expect(isExpired(record.siblings[1]!, 200)).toBe(true);
    expect(earliestExpiry(at100)).toBe(200);
  });

  it('two copies of one dot, one expired, merge to the expired one in either order', () => {
    const fresh: KeyRecord = { siblings: [live(1, 100), live(2)] };
    const expired = expire(fresh, 150);
    for (const merged of [sync(fresh, expired), sync(expired, fresh)]) {
      expect(merged.siblings.map((s) => s.value === null)).toEqual([true, false]);
      expect(sameDots(merged, expired)).toBe(true);
    }
    expect(sync(sync(fresh, expired), fresh)).toEqual(sync(fresh, expired));
  });

  it('still refuses two different writes under one dot', () => {
    const a: KeyRecord = { siblings: [live(1, 100)] };
    const b: KeyRecord = { siblings: [{ ...live(1, 100), expiresAtMs: 101, value: null }] };
    expect(() => sync(a, b)).toThrow(/two different writes/);
    const noDeadline: KeyRecord = { siblings: [{ ...live(1), value: null }] };
    expect(() => sync({ siblings: [live(1)] }, noDeadline)).toThrow(/two different writes/);
  });

  it('sameDots tells a live copy from its expired form', () => {
    const fresh: KeyRecord = { siblings: [live(1, 100)] };
    expect(sameDots(fresh, expire(fresh, 100))).toBe(false);
    expect(sameDots(fresh, fresh)).toBe(true);
  });

  it('the Merkle version hash covers the expired form and nothing else new', () => {
    const fresh: KeyRecord = { siblings: [live(1, 100), live(2)] };
    const plain: KeyRecord = { siblings: [live(1), live(2)] };
    expect(versionHash(fresh)).toBe(versionHash(plain)); // hashes of older data are unchanged
    expect(versionHash(expire(fresh, 100))).not.toBe(versionHash(fresh));
    const deleted: KeyRecord = { siblings: [{ ...live(1), value: null }, live(2)] };
    expect(versionHash(expire(fresh, 100))).not.toBe(versionHash(deleted));
  });
});

describe('sync with expiry, property-tested', () => {
  // A history of writes (some with deadlines); each replica holds a subset, expired at its own
  // time. Merging must stay a join: commutative, associative, idempotent, and expiry monotone.
  const writeArb = fc.record({
    deadline: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
    coversPrevious: fc.boolean(),
  });
  const replicaArb = fc.record({
    mask: fc.integer({ min: 0, max: 255 }),
    nowMs: fc.integer({ min: 0, max: 120 }),
  });

  function history(writes: ReadonlyArray<{ deadline?: number; coversPrevious: boolean }>) {
    let record: KeyRecord = { siblings: [] };
    const all: Sibling[] = [];
    writes.forEach((w, i) => {
      const context = w.coversPrevious && i > 0 ? [['a', i] as const] : [];
      const opts = w.deadline === undefined ? {} : { expiresAtMs: w.deadline };
      const next = update(record, context, 'a', bytes(`v${i}`), opts);
      record = next.record;
      all.push(next.sibling);
    });
    return all;
  }

  function replica(all: readonly Sibling[], mask: number, nowMs: number): KeyRecord {
    let record: KeyRecord = { siblings: [] };
    all.forEach((s, i) => {
      if ((mask >> i) & 1) record = sync(record, { siblings: [s] });
    });
    return expire(record, nowMs);
  }

  it('is commutative, associative and idempotent, and an expired copy always wins', () => {
    fc.assert(
      fc.property(
        fc.array(writeArb, { minLength: 1, maxLength: 8 }),
        fc.tuple(replicaArb, replicaArb, replicaArb),
        (writes, [ra, rb, rc]) => {
          const all = history(writes);
          const [a, b, c] = [ra, rb, rc].map((r) => replica(all, r.mask, r.nowMs)) as [
            KeyRecord,
            KeyRecord,
            KeyRecord,
          ];
          expect(sync(a, b)).toEqual(sync(b, a));
          expect(sync(sync(a, b), c)).toEqual(sync(a, sync(b, c)));
          expect(sync(a, a)).toEqual(a);
          const merged = sync(a, b);
          for (const s of merged.siblings) {
            const expiredSomewhere = [...a.siblings, ...b.siblings].some(
              (t) => t.dot[1] === s.dot[1] && t.value === null,
            );
            if (expiredSomewhere) expect(s.value).toBeNull();
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('DeadlineQueue', () => {
  it('hands out due keys earliest first, skipping superseded deadlines, bounded per call', () => {
    const queue = new DeadlineQueue();
    queue.set('c', 30);
    queue.set('a', 10);
    queue.set('b', 20);
    queue.set('a', 40); // rewritten: its old deadline no longer counts
    queue.set('d', 5);
    queue.set('d', null); // deleted
    expect(queue.takeDue(25, 10)).toEqual(['b']);
    expect(queue.takeDue(100, 1)).toEqual(['c']);
    expect(queue.takeDue(100, 10)).toEqual(['a']);
    expect(queue.size).toBe(0);
  });

  it('stays bounded when one key is rewritten many times', () => {
    const queue = new DeadlineQueue();
    for (let i = 0; i < 100_000; i++) queue.set('k', 1_000 + i);
    expect(queue.size).toBe(1);
    expect(queue.takeDue(1e9, 10)).toEqual(['k']);
    expect((queue as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(1026);
  });
});

function getRecord(result: ClientResult | undefined): KeyRecord | null {
  if (result === undefined || !result.ok || result.op !== 'get') {
    throw new Error(`expected a successful get, got ${JSON.stringify(result)}`);
  }
  return result.record;
}

function putTtl(net: TestNet, node: NodeId, key: string, value: string, ttlMs: number, w = 3) {
  return net.request(node, {
    op: 'put',
    key,
    value: bytes(value),
    context: [],
    w,
    timeoutMs: 1000,
    ttlMs,
  });
}

function prefsOf(net: TestNet, key: string): NodeId[] {
  return net.ring.preferenceList(key, net.n) as NodeId[];
}

describe('NodeCore expiry', () => {
  it('sets the deadline from the coordinator clock and stops returning the value after it', () => {
    const net = new TestNet(5);
    const [coordinator] = prefsOf(net, 'k');
    const put = putTtl(net, coordinator!, 'k', 'v', 300);
    net.settle();
    expect(net.reply(put)).toMatchObject({ ok: true, op: 'put' });
    const before = net.get(coordinator!, 'k', 3);
    net.settle();
    const record = getRecord(net.reply(before))!;
    expect(liveValues(record).map(text)).toEqual(['v']);
    expect(liveExpiries(record)).toEqual([WALL_EPOCH_MS + 300]);
    net.nowMs += 300; // exactly the deadline: expired
    const after = net.get(coordinator!, 'k', 3);
    net.settle();
    expect(liveValues(getRecord(net.reply(after))!)).toEqual([]);
    expect(net.core(coordinator!).read('k')!.siblings[0]!.value).toBeNull();
  });

  it('a restarted node finds the deadlines its storage holds and still expires those values', () => {
    const net = new TestNet(5);
    const prefs = prefsOf(net, 'k');
    putTtl(net, prefs[0]!, 'k', 'v', 200);
    net.put(prefs[0]!, 'plain', 'no deadline');
    net.settle();
    const node = prefs[1]!;
    net.restart(node); // a fresh core over the same storage: it reads the deadline back
    expect(net.core(node).stats().expiringKeys).toBe(1);
    net.input(node, { kind: 'start' }); // arms its tick, whose sweep expires values
    net.isolated.add(node); // no peer's expired copy can reach it: it must expire its own
    net.advance(1_000);
    expect(net.core(node).stats().valuesExpired).toBe(1);
    expect(net.stores.get(node)!.get('k')?.siblings[0]?.value ?? null).toBeNull();
  });

  it('stores expired values as tombstones on its tick, and the reaper then removes them', () => {
    const net = new TestNet(5);
    const prefs = prefsOf(net, 'k');
    putTtl(net, prefs[0]!, 'k', 'v', 200);
    net.settle();
    net.advance(1_500); // ticks sweep, then the reap (grace 100 ms) removes the tombstones
    for (const id of prefs) expect(net.stores.get(id)!.get('k')).toBeUndefined();
    // The first sweep stores its copy expired; replicas may get the expired form by merge first.
    const swept = prefs.map((id) => net.core(id).stats().valuesExpired);
    expect(Math.max(...swept)).toBe(1);
    expect(prefs.reduce((sum, id) => sum + net.core(id).stats().tombstonesReaped, 0)).toBe(3);
  });

  it('a replica whose clock is behind cannot repair the expired value back', () => {
    const net = new TestNet(5);
    const prefs = prefsOf(net, 'k');
    const slow = prefs[2]!;
    net.clockOffsetsMs.set(slow, -60_000); // a minute behind: by its clock, the value lives on
    putTtl(net, prefs[0]!, 'k', 'v', 500);
    net.settle();
    net.nowMs += 1_000;
    const get = net.get(prefs[0]!, 'k', 3);
    net.settle();
    expect(liveValues(getRecord(net.reply(get))!)).toEqual([]);
    // Read repair carried the expired form to the slow replica, which keeps it over its own.
    expect(net.stores.get(slow)!.get('k')!.siblings[0]!.value).toBeNull();
    // The slow node's own copy must not come back through a merge of what it held before.
    const stale: KeyRecord = { siblings: [{ ...net.stores.get(slow)!.get('k')!.siblings[0]! }] };
    const resurrect: KeyRecord = {
      siblings: [{ ...stale.siblings[0]!, value: bytes('v') }],
    };
    net.input(prefs[0]!, {
      kind: 'message',
      from: slow,
      message: { type: 'repair', key: 'k', record: resurrect },
    });
    net.settle();
    expect(net.stores.get(prefs[0]!)!.get('k')!.siblings[0]!.value).toBeNull();
    const slowRead = net.get(slow, 'k', 1);
    net.settle();
    expect(liveValues(getRecord(net.reply(slowRead)) ?? { siblings: [] })).toEqual([]);
  });

  it('a put with an absolute deadline already past is stored as a tombstone', () => {
    const net = new TestNet(3);
    const [coordinator] = prefsOf(net, 'k');
    const put = net.request(coordinator!, {
      op: 'put',
      key: 'k',
      value: bytes('v'),
      context: [],
      w: 3,
      timeoutMs: 1000,
      expiresAtMs: WALL_EPOCH_MS - 1,
    });
    net.settle();
    expect(net.reply(put)).toMatchObject({ ok: true });
    for (const id of net.ids) expect(net.stores.get(id)!.get('k')!.siblings[0]!.value).toBeNull();
  });

  it('refuses a put with both ttlMs and expiresAtMs, and a delete with either', () => {
    const net = new TestNet(3);
    const base = { op: 'put', key: 'k', context: [], w: 2, timeoutMs: 1000 } as const;
    const both = net.request('n1' as NodeId, {
      ...base,
      value: bytes('v'),
      ttlMs: 5,
      expiresAtMs: 5,
    });
    const del = net.request('n1' as NodeId, { ...base, value: null, ttlMs: 5 });
    const zero = net.request('n1' as NodeId, { ...base, value: bytes('v'), ttlMs: 0 });
    for (const reqId of [both, del, zero]) {
      expect(net.reply(reqId)).toMatchObject({ ok: false, error: 'invalid' });
    }
    expect(net.inflight).toEqual([]);
  });
});
