/**
 * ring-view.ts: what follows for a node from the ring state it adopted — the ring it routes by,
 * the next ring, the moves and senders of a running change, what it replicates in either ring —
 * and which ring state a node starts from.
 */
import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';
import {
  beginChange,
  commitChange,
  endDeparture,
  initialRingState,
  movesOf,
  type RingState,
  sendersOf,
} from '../../src/core/ring-state.js';
import { RING_META, RingView, startingRingState } from '../../src/core/ring-view.js';
import { type NodeId, nodeId } from '../../src/core/types.js';
import { SimStorage } from '../../src/sim/sim-storage.js';
import { nodeIds } from './fake-context.js';

const ids = nodeIds(5);
const [n1, n5] = [ids[0]!, ids[4]!];
const n6 = nodeId('n6');
const ring = Ring.create(ids, 64);
const s0 = initialRingState(ring);
const joining = beginChange(s0, { kind: 'join', node: n6 }, n1);

/** The first key whose preference lists in `state`'s current and next rings pass `test`. */
function keyIn(
  state: RingState,
  test: (now: readonly NodeId[], next: readonly NodeId[]) => boolean,
): string {
  const now = Ring.fromOwners(state.owners);
  const next = Ring.fromOwners(state.next!);
  for (let i = 0; i < 10_000; i++) {
    const key = `k${i}`;
    if (test(now.preferenceList(key, 3), next.preferenceList(key, 3))) return key;
  }
  throw new Error('no such key');
}

describe('RingView.adopt', () => {
  it('derives the next ring, the moves and the senders of a transition', () => {
    const view = new RingView(s0, n1, 3);
    expect(view.next).toBeNull();
    expect(view.moves).toEqual([]);
    expect(view.adopt(joining)).toBe(true);
    expect(view.state).toBe(joining);
    expect(view.ring.owners).toEqual(s0.owners);
    expect(view.next?.owners).toEqual(joining.next);
    expect(view.nodes).toEqual([...ids, n6].sort());
    expect(view.moves.length).toBeGreaterThan(0);
    expect(view.moves).toEqual(movesOf(joining, 3));
    for (const move of view.moves) expect(move.incoming).toEqual([n6]);
    expect([...view.senders].sort()).toEqual([...sendersOf(movesOf(joining, 3))].sort());
  });

  it('replicates what a node holds in either ring while a change runs', () => {
    const losing = keyIn(joining, (now, next) => now.includes(n1) && !next.includes(n1));
    const gaining = keyIn(joining, (now, next) => !now.includes(n6) && next.includes(n6));
    const neither = keyIn(joining, (now, next) => !now.includes(n6) && !next.includes(n6));
    const old = new RingView(s0, n1, 3);
    const joiner = new RingView(s0, n6, 3);
    expect(old.replicates(losing)).toBe(true);
    expect(joiner.replicates(gaining)).toBe(false);
    old.adopt(joining);
    joiner.adopt(joining);
    expect(old.replicates(losing)).toBe(true);
    expect(joiner.replicates(gaining)).toBe(true);
    expect(joiner.replicates(neither)).toBe(false);
    const committed = commitChange(joining);
    old.adopt(committed);
    joiner.adopt(committed);
    expect(old.replicates(losing)).toBe(false);
    expect(joiner.replicates(gaining)).toBe(true);
    expect(old.next).toBeNull();
    expect(old.moves).toEqual([]);
  });

  it('returns false for a change that only ends a departure', () => {
    const leaving = beginChange(s0, { kind: 'leave', node: n5 }, n1);
    const departed = commitChange(leaving);
    expect(departed.departing).toEqual([n5]);
    const view = new RingView(departed, n1, 3);
    const ended = endDeparture(departed, n5, n1);
    const ringBefore = view.ring;
    expect(view.adopt(ended)).toBe(false);
    expect(view.state).toBe(ended);
    expect(view.nodes).not.toContain(n5);
    expect(view.ring).toBe(ringBefore);
  });

  it('refuses a state that does not supersede the current one', () => {
    const view = new RingView(joining, n1, 3);
    expect(() => view.adopt(s0)).toThrow(/newer ring state/);
  });
});

describe('startingRingState', () => {
  const committed = commitChange(joining);

  it('starts from the configured ring when nothing newer is given or stored', () => {
    expect(startingRingState(ring, undefined, new SimStorage(n1))).toEqual(s0);
  });

  it('takes a given state that supersedes the configured one', () => {
    expect(startingRingState(ring, joining, new SimStorage(n1))).toEqual(joining);
  });

  it('takes the stored state when it is the newest, and ignores a malformed one', () => {
    const store = new SimStorage(n1);
    store.apply([{ ns: 'meta', name: RING_META, value: committed }]);
    expect(startingRingState(ring, joining, store)).toEqual(committed);
    const older = new SimStorage(n1);
    older.apply([{ ns: 'meta', name: RING_META, value: joining }]);
    expect(startingRingState(ring, committed, older)).toEqual(committed);
    const broken = new SimStorage(n1);
    broken.apply([{ ns: 'meta', name: RING_META, value: { ...committed, owners: [n1] } }]);
    expect(startingRingState(ring, undefined, broken)).toEqual(s0);
  });
});
