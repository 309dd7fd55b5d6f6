/**
 * reaper.ts: two-phase tombstone reaping — a grace period, a check every ring node must pass,
 * then a reap to the primaries; a single 'no' or a silent node abandons; a reap removes exactly
 * the tombstones that were checked.
 */
import { describe, expect, it } from 'vitest';
import { Effects } from '../../src/core/effects.js';
import { Reaper } from '../../src/core/reaper.js';
import type { Dot, KeyRecord } from '../../src/core/types.js';
import {
  fakeContext,
  keyWhere,
  lastTimer,
  ofKind,
  sent,
  tombstones,
  valueRecord,
  writes,
} from './fake-context.js';

const GRACE_MS = 100;
const dots: Dot[] = [['w', 4]];
const dead = tombstones(['w', 4]);

function setup() {
  const node = fakeContext({ limits: { tombstoneGraceMs: GRACE_MS } });
  const busy = new Set<string>();
  const reaper = new Reaper(node.ctx, (key) => busy.has(key));
  const { ring } = node.ctx;
  const primaryKey = keyWhere(ring, 3, (p) => p.includes(node.self));
  const otherKey = keyWhere(ring, 3, (p) => !p.includes(node.self));
  /** Stores `record` durably under `key` on this node. */
  const hold = (key: string, record: KeyRecord) => node.store.apply([{ ns: 'data', key, record }]);
  return { node, busy, reaper, primaryKey, otherKey, hold };
}

/** Considers `key` and lets its grace period end: returns the check round's effects. */
function startCheck(t: ReturnType<typeof setup>, key: string) {
  const out = new Effects();
  t.reaper.considerTombstones(key, dead, out);
  const check = new Effects();
  expect(t.node.timers.fire(lastTimer(out).timerId, check)).toBe(true);
  const checks = sent(check, 'reap-check');
  return { check, checks, checkId: checks[0]!.message.checkId };
}

describe('Reaper: the claimant side', () => {
  it('waits the grace period, once per key', () => {
    const t = setup();
    const out = new Effects();
    t.reaper.considerTombstones(t.otherKey, dead, out);
    expect(ofKind(out, 'set-timer').map((e) => e.delayMs)).toEqual([GRACE_MS]);
    expect(sent(out, 'reap-check')).toEqual([]);
    t.reaper.considerTombstones(t.otherKey, dead, out);
    expect(out.list).toHaveLength(1);
    expect(t.reaper.pending).toBe(1);
  });

  it('asks every ring node after the grace period, then reaps at the primaries when all agree', () => {
    const t = setup();
    const { check, checks, checkId } = startCheck(t, t.otherKey);
    expect(checks.map((s) => s.to)).toEqual(t.node.ctx.ringNodes);
    for (const { message } of checks) expect(message).toMatchObject({ key: t.otherKey, dots });
    const { timerId } = lastTimer(check);
    const out = new Effects();
    const [last, ...rest] = t.node.ctx.ringNodes;
    for (const node of rest) t.reaper.onCheckReply(checkId, node, true, out);
    expect(sent(out, 'reap')).toEqual([]);
    t.reaper.onCheckReply(checkId, last!, true, out);
    const primaries = t.node.ctx.ring.preferenceList(t.otherKey, 3);
    expect(sent(out, 'reap').map((s) => s.to)).toEqual(primaries);
    expect(sent(out, 'reap')[0]!.message).toMatchObject({ key: t.otherKey, dots });
    expect(ofKind(out, 'cancel-timer')).toEqual([{ kind: 'cancel-timer', timerId }]);
    expect(t.reaper.stats.reapsSent).toBe(1);
    expect(t.reaper.pending).toBe(0);
  });

  it("abandons the round on a single 'no', ignoring the answers after it", () => {
    const t = setup();
    const { checkId } = startCheck(t, t.otherKey);
    const [first, ...rest] = t.node.ctx.ringNodes;
    const out = new Effects();
    t.reaper.onCheckReply(checkId, first!, false, out);
    for (const node of rest) t.reaper.onCheckReply(checkId, node, true, out);
    expect(out.list).toEqual([]);
    expect(t.reaper.stats.reapChecksFailed).toBe(1);
    expect(t.reaper.pending).toBe(0);
    // The key may be considered again.
    const again = new Effects();
    t.reaper.considerTombstones(t.otherKey, dead, again);
    expect(ofKind(again, 'set-timer')).toHaveLength(1);
  });

  it('abandons the round when a node stays silent until its timer', () => {
    const t = setup();
    const { check, checkId } = startCheck(t, t.otherKey);
    const [, ...rest] = t.node.ctx.ringNodes;
    const out = new Effects();
    for (const node of rest) t.reaper.onCheckReply(checkId, node, true, out);
    expect(t.node.timers.fire(lastTimer(check).timerId, out)).toBe(true);
    expect(out.list).toEqual([]);
    expect(t.reaper.stats.reapChecksFailed).toBe(1);
    expect(t.reaper.pending).toBe(0);
  });
});

describe('Reaper: answering a check', () => {
  function answer(t: ReturnType<typeof setup>, key: string): boolean {
    const out = new Effects();
    t.reaper.onCheck(t.node.ids[1]!, 9, key, dots, out);
    const replies = sent(out, 'reap-check-reply');
    expect(replies.map((s) => [s.to, s.message.checkId])).toEqual([[t.node.ids[1], 9]]);
    return replies[0]!.message.ok;
  }

  it('says yes when it holds nothing of the key, or exactly those tombstones as a primary', () => {
    const t = setup();
    expect(answer(t, t.primaryKey)).toBe(true);
    expect(answer(t, t.otherKey)).toBe(true);
    t.hold(t.primaryKey, dead);
    expect(answer(t, t.primaryKey)).toBe(true);
  });

  it('says no while busy with the key', () => {
    const t = setup();
    t.busy.add(t.primaryKey);
    expect(answer(t, t.primaryKey)).toBe(false);
  });

  it('says no while holding other dots, a live value, or a copy it is not a primary for', () => {
    const t = setup();
    t.hold(t.primaryKey, tombstones(['w', 4], ['x', 1]));
    expect(answer(t, t.primaryKey)).toBe(false);
    t.hold(t.primaryKey, valueRecord('v', 'w', 5));
    expect(answer(t, t.primaryKey)).toBe(false);
    t.hold(t.otherKey, dead);
    expect(answer(t, t.otherKey)).toBe(false);
  });
});

describe('Reaper: the reap at a primary', () => {
  it('removes exactly the checked tombstones', () => {
    const t = setup();
    t.hold(t.primaryKey, dead);
    const out = new Effects();
    t.reaper.onReap(t.primaryKey, dots, out);
    expect(writes(out, 'data')).toEqual([{ ns: 'data', key: t.primaryKey, record: null }]);
    expect(t.reaper.stats.tombstonesReaped).toBe(1);
  });

  it.each<[string, KeyRecord | null]>([
    ['other tombstones', tombstones(['w', 4], ['x', 1])],
    ['a newer live value', valueRecord('v', 'w', 5)],
    ['nothing', null],
  ])('keeps the key when it holds %s', (_label, held) => {
    const t = setup();
    if (held !== null) t.hold(t.primaryKey, held);
    const out = new Effects();
    t.reaper.onReap(t.primaryKey, dots, out);
    expect(out.list).toEqual([]);
    expect(t.reaper.stats.tombstonesReaped).toBe(0);
  });
});
