/**
 * The versioned ring state (ring-state.ts): which partitions a change moves and who sends them,
 * how states supersede each other, what a commit leaves departing, and the shape check.
 */
import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';
import {
  abortJoin,
  beginChange,
  commitChange,
  endDeparture,
  initialRingState,
  isRingState,
  movesOf,
  nodesOf,
  sendersOf,
  supersedesRing,
  takeOver,
} from '../../src/core/ring-state.js';
import { nodeId } from '../../src/core/types.js';

const ids = ['n1', 'n2', 'n3', 'n4', 'n5'].map(nodeId);
const ring = Ring.create(ids, 64);
const start = initialRingState(ring);

describe('ring state', () => {
  it('a join moves exactly the partitions whose list gains the joiner, each from one leaver', () => {
    const begun = beginChange(start, { kind: 'join', node: nodeId('n6') }, nodeId('n1'));
    const next = Ring.fromOwners(begun.next!);
    const moves = movesOf(begun, 3);
    for (let p = 0; p < 64; p++) {
      const before = ring.preferenceListForPartition(p, 3);
      const after = next.preferenceListForPartition(p, 3);
      const move = moves.find((m) => m.partition === p);
      if (after.every((node) => before.includes(node))) {
        expect(move).toBeUndefined();
        continue;
      }
      expect(move?.incoming).toEqual(['n6']);
      // The sender is the node the partition leaves: it holds a copy and loses it.
      expect(before).toContain(move!.sender);
      expect(after).not.toContain(move!.sender);
    }
    expect(moves.length).toBeGreaterThan(0);
  });

  it('a removed node never sends: a node that keeps the partition does', () => {
    const begun = beginChange(start, { kind: 'remove', node: nodeId('n2') }, nodeId('n1'));
    const moves = movesOf(begun, 3);
    expect(moves.length).toBeGreaterThan(0);
    for (const move of moves) {
      expect(move.sender).not.toBe('n2');
      expect(Ring.fromOwners(begun.next!).preferenceListForPartition(move.partition, 3)).toContain(
        move.sender,
      );
    }
    expect(sendersOf(moves).has(nodeId('n2'))).toBe(false);
  });

  it('a commit routes by the next ring and keeps a leaver departing, not a removed node', () => {
    const leave = commitChange(beginChange(start, { kind: 'leave', node: nodeId('n3') }, ids[0]!));
    expect(leave).toMatchObject({ version: 2, next: null, departing: ['n3'], changeVersion: 2 });
    expect(nodesOf(leave)).toContain('n3'); // still asked in reap checks until it drained
    const ended = endDeparture(leave, nodeId('n3'), nodeId('n1'));
    expect(ended).toMatchObject({ version: 3, departing: [] });
    expect(nodesOf(ended)).not.toContain('n3');
    const removed = commitChange(
      beginChange(start, { kind: 'remove', node: nodeId('n3') }, ids[0]!),
    );
    expect(removed.departing).toEqual([]);
  });

  it('a takeover is the same change under a newer version; an abort keeps the current ring', () => {
    const begun = beginChange(start, { kind: 'join', node: nodeId('n6') }, nodeId('n1'));
    const taken = takeOver(begun, nodeId('n2'));
    expect(taken).toMatchObject({ version: 2, claimant: 'n2', changeVersion: 1 });
    expect(taken.next).toEqual(begun.next);
    expect(supersedesRing(taken, begun)).toBe(true);
    const aborted = abortJoin(begun, nodeId('n6'), nodeId('n2'));
    expect(aborted).toMatchObject({ version: 2, next: null, owners: start.owners });
  });

  it('higher versions win; at a tie the higher claimant', () => {
    const a = { ...start, version: 3, claimant: nodeId('n1') };
    const b = { ...start, version: 3, claimant: nodeId('n2') };
    expect(supersedesRing(b, a)).toBe(true);
    expect(supersedesRing(a, b)).toBe(false);
    expect(supersedesRing({ ...a, version: 4 }, b)).toBe(true);
    expect(supersedesRing(a, a)).toBe(false);
  });

  it('checks the shape of a state from a peer', () => {
    expect(isRingState(start, 64)).toBe(true);
    expect(isRingState(start, 128)).toBe(false);
    expect(isRingState({ ...start, owners: start.owners.slice(1) })).toBe(false);
    expect(isRingState({ ...start, next: ['n1'] })).toBe(false);
    expect(isRingState({ ...start, departing: [7] })).toBe(false);
    expect(isRingState({ ...start, changeVersion: 5 })).toBe(false);
    expect(isRingState({ ...start, claimant: '' })).toBe(false);
    expect(isRingState(null)).toBe(false);
  });

  it('refuses a change the ring cannot make', () => {
    expect(() => beginChange(start, { kind: 'join', node: nodeId('n1') }, ids[0]!)).toThrow(
      RangeError,
    );
    expect(() => beginChange(start, { kind: 'leave', node: nodeId('n9') }, ids[0]!)).toThrow(
      RangeError,
    );
  });
});
