/**
 * RingTracker: the simulator's view of which ring state each node adopted and which is newest;
 * and the Simulator's membership API built on it (addNode, admin, retire).
 */
import { describe, expect, it } from 'vitest';
import type { ClientResult } from '../../src/core/messages.js';
import { Ring } from '../../src/core/ring.js';
import { beginChange, commitChange, initialRingState } from '../../src/core/ring-state.js';
import { nodeId } from '../../src/core/types.js';
import { checkRing } from '../../src/sim/ring-check.js';
import { RingTracker } from '../../src/sim/ring-tracker.js';
import { sim } from './helpers.js';

const [n1, n2, n3, n4] = ['n1', 'n2', 'n3', 'n4'].map(nodeId) as [
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
  ReturnType<typeof nodeId>,
];
const ring = Ring.create([n1, n2, n3], 16);
const v0 = initialRingState(ring);
const v1 = beginChange(v0, { kind: 'join', node: n4 }, n2);
const v2 = commitChange(v1);

function tracker(): RingTracker {
  const t = new RingTracker(ring, 1);
  for (const id of [n1, n2, n3]) t.track(id, null);
  t.track(n4, v0);
  return t;
}

describe('RingTracker', () => {
  it('starts every node on its boot state; the newest is the initial ring', () => {
    const t = tracker();
    expect(t.state).toEqual(v0);
    expect(t.ring).toBe(ring);
    expect(t.stateOf(n4).version).toBe(0);
  });

  it('follows what nodes persist, and the newest state any node holds', () => {
    const t = tracker();
    t.onMeta(n2, 'ringState', v1);
    expect(t.state.version).toBe(1);
    expect(t.ring.owners).toEqual(ring.owners); // a transition routes by the old owners
    t.onMeta(n1, 'ringState', v2);
    expect(t.state.version).toBe(2);
    expect(t.ring.has(n4)).toBe(true);
    expect(t.stateOf(n3).version).toBe(0);
    t.onMeta(n3, 'other', v2); // other meta entries are not ring states
    expect(t.stateOf(n3).version).toBe(0);
  });

  it('a wipe sends a node back to its boot state; the newest is what some node still holds', () => {
    const t = tracker();
    t.onMeta(n1, 'ringState', v2);
    t.onMeta(n4, 'ringState', v1);
    t.onMeta(n1, 'ringState', undefined);
    expect(t.stateOf(n1).version).toBe(0);
    expect(t.state.version).toBe(1); // v2 was on n1's disk only: it is gone
    t.onMeta(n4, 'ringState', undefined);
    expect(t.state.version).toBe(0);
  });

  it('tells whether a node replicates a key under its adopted state (current or next ring)', () => {
    const t = tracker();
    const next = Ring.fromOwners(v1.next!);
    const key = Array.from({ length: 100 }, (_, i) => `k${i}`).find(
      (k) => next.preferenceList(k, 1)[0] === n4,
    )!;
    const owner = ring.preferenceList(key, 1)[0]!;
    expect(t.replicates(owner, key)).toBe(true);
    expect(t.replicates(n4, key)).toBe(false);
    t.onMeta(n4, 'ringState', v1);
    t.onMeta(owner, 'ringState', v1);
    expect(t.replicates(n4, key)).toBe(true); // incoming
    expect(t.replicates(owner, key)).toBe(true); // still the owner
    t.onMeta(owner, 'ringState', v2);
    expect(t.replicates(owner, key)).toBe(false); // a removal now is a drain, not a reap
  });
});

describe('Simulator membership API', () => {
  it('hosts a joiner with the newest state, answers admin requests, retires a node', () => {
    const s = sim({ nodes: 3, n: 2, r: 1, w: 1 }, 3);
    const joiner = s.addNode();
    expect(joiner).toBe('n4');
    expect(s.ids).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(s.ring.has(joiner)).toBe(false);
    const answers: ClientResult[] = [];
    s.admin(
      n1,
      { op: 'ring-change', change: { kind: 'join', node: joiner }, timeoutMs: 100 },
      (r) => answers.push(r),
    );
    expect(s.runUntil(() => s.ringState.version === 2, 5_000)).toBe(true);
    expect(answers[0]).toMatchObject({ ok: true, op: 'ring-change' });
    expect(s.ring.has(joiner)).toBe(true);
    s.runFor(1_000); // the commit reaches everyone
    expect(s.rings.stateOf(joiner).version).toBe(2);
    s.admin(joiner, { op: 'ring-status', timeoutMs: 100 }, (r) => answers.push(r));
    s.runFor(10);
    expect(answers[1]).toMatchObject({ ok: true, op: 'ring-status', state: { version: 2 } });
    s.retire(n3);
    expect(s.isRetired(n3)).toBe(true);
    expect(s.ids).toEqual(['n1', 'n2', 'n4']);
    expect(s.dataSnapshot().has(n3)).toBe(false);
    s.quiesce();
    expect(s.node(n3).state).toBe('down'); // never restarted
  });
});

describe('ring checks', () => {
  it('report a change that is missing from the final ring, and one that never committed', () => {
    const s = sim({ nodes: 3, n: 2, r: 1, w: 1 }, 4);
    const joiner = s.addNode();
    const join = { kind: 'join', node: joiner } as const;
    s.runFor(1_000);
    expect(checkRing(s, []).map((v) => v.message)).toEqual([]);
    expect(checkRing(s, [join]).map((v) => v.message)).toEqual([
      'joiner n4 is not in the final ring',
    ]);
    s.admin(n1, { op: 'ring-change', change: join, timeoutMs: 100 }, () => {});
    s.runFor(0);
    s.network.isolate(n1); // the claimant never hears that the senders are done
    s.runFor(5_000);
    const messages = checkRing(s, [join]).map((v) => v.message);
    expect(messages[0]).toMatch(/^membership change v1 \(claimant n1\) never committed$/);
    expect(checkRing(s, [join]).every((v) => v.rule === 'membership')).toBe(true);
  });
});
