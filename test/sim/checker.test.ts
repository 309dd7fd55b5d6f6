import { describe, expect, it } from 'vitest';
import {
  type Dot,
  type KeyRecord,
  type NodeId,
  nodeId,
  type Sibling,
  type VersionVector,
} from '../../src/core/types.js';
import { type CheckInput, check, type Rule } from '../../src/sim/checker.js';
import type { Outcome, WriteFact } from '../../src/sim/history.js';

const [n1, n2, n3, n4] = ['n1', 'n2', 'n3', 'n4'].map(nodeId) as [NodeId, NodeId, NodeId, NodeId];
const ring = { preferenceList: (): readonly NodeId[] => [n1, n2, n3] };

function write(
  id: number,
  kind: 'put' | 'delete',
  context: VersionVector,
  dots: Dot[],
  outcome: Outcome = 'ok',
): WriteFact {
  return { id, kind, key: 'k', context, dots, outcome };
}

function sibling(dot: Dot, past: VersionVector, value: string | null): Sibling {
  return { dot, past, value: value === null ? null : new TextEncoder().encode(value) };
}

function record(...siblings: Sibling[]): KeyRecord {
  return { siblings };
}

/** The same record on n1..n3 (a converged key), or none. */
function everywhere(rec: KeyRecord | null): Map<NodeId, Map<string, KeyRecord>> {
  return new Map(
    [n1, n2, n3].map((node) => [node, new Map(rec === null ? [] : [['k', rec]])] as const),
  );
}

function run(input: Partial<CheckInput> & Pick<CheckInput, 'writes' | 'data'>) {
  return check({ ring, n: 3, ...input });
}

function rules(violations: ReturnType<typeof check>): Rule[] {
  return violations.map((v) => v.rule).sort();
}

describe('checker', () => {
  it('passes a clean history: an update replaced what its context saw', () => {
    const writes = [write(1, 'put', [], [['a', 1]]), write(2, 'put', [['a', 1]], [['a', 2]])];
    const data = everywhere(record(sibling(['a', 2], [['a', 1]], 'w2')));
    expect(run({ writes, data })).toEqual([]);
  });

  it('passes concurrent blind puts kept as siblings', () => {
    const writes = [write(1, 'put', [], [['a', 1]]), write(2, 'put', [], [['b', 1]])];
    const data = everywhere(record(sibling(['a', 1], [], 'w1'), sibling(['b', 1], [], 'w2')));
    expect(run({ writes, data })).toEqual([]);
  });

  it('accounts a write through a chain of coverers, whatever their outcome', () => {
    const writes = [
      write(1, 'put', [], [['a', 1]]),
      write(2, 'put', [['a', 1]], [['b', 1]], 'fail'),
      write(3, 'put', [['b', 1]], [['c', 1]], 'unknown'),
    ];
    const data = everywhere(record(sibling(['c', 1], [['b', 1]], 'w3')));
    expect(run({ writes, data })).toEqual([]);
  });

  it('accepts a key deleted and reaped everywhere', () => {
    const writes = [write(1, 'put', [], [['a', 1]]), write(2, 'delete', [['a', 1]], [['a', 2]])];
    expect(run({ writes, data: everywhere(null) })).toEqual([]);
  });

  it('accepts a reaped delete followed by a new write', () => {
    const writes = [
      write(1, 'put', [], [['a', 1]]),
      write(2, 'delete', [['a', 1]], [['a', 2]]),
      write(3, 'put', [], [['b', 1]]),
    ];
    const data = everywhere(record(sibling(['b', 1], [], 'w3')));
    const reaped = new Map([['k', [['a', 2]] as Dot[]]]);
    expect(run({ writes, data, reaped })).toEqual([]);
  });

  it('rule 1: detects an acknowledged write that no node holds', () => {
    const writes = [write(1, 'put', [], [['a', 1]]), write(2, 'put', [], [['b', 1]], 'fail')];
    const violations = run({ writes, data: everywhere(record(sibling(['b', 1], [], 'w2'))) });
    expect(rules(violations)).toEqual(['lost-write']);
    expect(violations[0]!.ops).toEqual([1]);
    expect(violations[0]!.message).toContain('put #1');
  });

  it('rule 1: detects an acknowledged write that never became durable', () => {
    const violations = run({ writes: [write(1, 'delete', [], [])], data: everywhere(null) });
    expect(rules(violations)).toEqual(['lost-write']);
    expect(violations[0]!.message).toContain('never became durable');
  });

  it('rule 1: ignores failed and unknown writes that vanished', () => {
    const writes = [write(1, 'put', [], [['a', 1]], 'fail'), write(2, 'put', [], [], 'unknown')];
    expect(run({ writes, data: everywhere(null) })).toEqual([]);
  });

  it('rule 2: names both writes of a silent overwrite', () => {
    const writes = [write(1, 'put', [], [['a', 1]]), write(2, 'put', [], [['b', 1]])];
    const violations = run({ writes, data: everywhere(record(sibling(['b', 1], [], 'w2'))) });
    expect(rules(violations)).toEqual(['lost-write', 'silent-overwrite']);
    const overwrite = violations.find((v) => v.rule === 'silent-overwrite')!;
    expect(overwrite.ops).toEqual([1, 2]);
    expect(overwrite.message).toContain('silently overwritten');
  });

  it('rule 3: detects a deleted value that came back after its tombstone was reaped', () => {
    const writes = [write(1, 'put', [], [['a', 1]]), write(2, 'delete', [['a', 1]], [['b', 1]])];
    const data = everywhere(record(sibling(['a', 1], [], 'w1')));
    const reaped = new Map([['k', [['b', 1]] as Dot[]]]);
    const violations = run({ writes, data, reaped });
    expect(rules(violations)).toEqual(['resurrection']);
    expect(violations[0]!.ops).toEqual([1, 2]);
  });

  it('rule 3: detects a superseded version that came back', () => {
    const writes = [
      write(1, 'put', [], [['a', 1]]),
      write(2, 'put', [['a', 1]], [['b', 1]]),
      write(3, 'put', [['b', 1]], [['c', 1]]),
    ];
    const data = everywhere(
      record(sibling(['a', 1], [], 'w1'), sibling(['c', 1], [['b', 1]], 'w3')),
    );
    const violations = run({ writes, data });
    expect(rules(violations)).toEqual(['superseded-returned']);
    expect(violations[0]!.message).toContain('superseded by ok put #2');
  });

  it('rule 4: detects replicas that disagree, and ignores copies off the preference list', () => {
    const writes = [write(1, 'put', [], [['a', 1]]), write(2, 'put', [['a', 1]], [['a', 2]])];
    const newer = record(sibling(['a', 2], [['a', 1]], 'w2'));
    const data = everywhere(newer);
    data.set(n4, new Map([['k', record(sibling(['a', 1], [], 'w1'))]]));
    expect(rules(run({ writes, data }))).toEqual(['ownership']); // rule 5, not rule 4
    data.delete(n4);
    data.get(n3)!.set('k', record(sibling(['a', 1], [], 'w1')));
    const violations = run({ writes, data });
    expect(rules(violations)).toEqual(['convergence']);
    expect(violations[0]!.message).toContain('n3: [a:1]');
    data.get(n3)!.delete('k');
    expect(rules(run({ writes, data }))).toEqual(['convergence']);
    expect(run({ writes, data, convergence: false })).toEqual([]);
  });

  it('rule 5: a node outside the preference list holds no record of the key', () => {
    const writes = [write(1, 'put', [], [['a', 1]])];
    const data = everywhere(record(sibling(['a', 1], [], 'w1')));
    expect(run({ writes, data })).toEqual([]);
    data.set(n4, new Map([['k', record(sibling(['a', 1], [], 'w1'))]])); // e.g. it left the ring
    const violations = run({ writes, data });
    expect(rules(violations)).toEqual(['ownership']);
    expect(violations[0]!.message).toContain('n4 holds [a:1]');
    expect(run({ writes, data, convergence: false })).toEqual([]); // mid-run: not checked
    data.set(n4, new Map()); // drained: fine
    expect(run({ writes, data })).toEqual([]);
  });

  it('terminates on a cyclic cover relation', () => {
    const writes = [
      write(1, 'put', [['b', 1]], [['a', 1]]),
      write(2, 'put', [['a', 1]], [['b', 1]]),
    ];
    expect(rules(run({ writes, data: everywhere(null) }))).toEqual(['lost-write', 'lost-write']);
  });
});

describe('expired-returned', () => {
  const epoch = 1_700_000_000_000;
  const expiring = (dot: Dot, expiresAtMs: number, value: string | null = 'v'): Sibling => ({
    ...sibling(dot, [], value),
    expiresAtMs,
  });
  function read(id: number, invokeMs: number, dot: Dot, expiresAtMs: number) {
    return {
      id,
      kind: 'get',
      key: 'k',
      outcome: 'ok',
      invokeMs,
      readExpiries: [{ dot, expiresAtMs }],
    };
  }
  function input(
    reads: ReturnType<typeof read>[],
    data: KeyRecord | null,
    endMs = 10_000,
  ): CheckInput {
    return {
      writes: [{ ...write(1, 'put', [], [['a', 1]]), expires: true }],
      data: everywhere(data),
      ring,
      n: 3,
      expiry: { reads, wallEpochMs: epoch, endMs, skewMs: 100, sweepSlackMs: 500 },
    };
  }

  it('flags a get invoked past the deadline plus the skew that returned the value', () => {
    const late = check(
      input(
        [read(2, 1_100, ['a', 1], epoch + 1_000)],
        record(expiring(['a', 1], epoch + 1_000, null)),
      ),
    );
    expect(late.map((v) => [v.rule, v.ops])).toEqual([['expired-returned', [2]]]);
  });

  it('allows a read within the tolerated skew of the deadline', () => {
    const within = check(
      input(
        [read(2, 1_099, ['a', 1], epoch + 1_000)],
        record(expiring(['a', 1], epoch + 1_000, null)),
      ),
    );
    expect(within).toEqual([]);
  });

  it('flags a value still stored live past its deadline, skew and sweep slack at the end', () => {
    const stored = record(expiring(['a', 1], epoch + 1_000));
    expect(check(input([], stored, 1_600)).map((v) => v.rule)).toEqual([
      'expired-returned',
      'expired-returned',
      'expired-returned',
    ]);
    expect(check(input([], stored, 1_599))).toEqual([]);
  });

  it('accounts an acknowledged TTL put whose expired tombstone was reaped everywhere', () => {
    expect(check(input([], null))).toEqual([]);
    const plain = { ...input([], null), writes: [write(1, 'put', [], [['a', 1]])] };
    expect(check(plain).map((v) => v.rule)).toEqual(['lost-write']);
  });
});
