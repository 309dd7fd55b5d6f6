import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../src/core/assert.js';
import type { ActorId, Dot, KeyRecord, Sibling, VersionVector } from '../../src/core/types.js';
import {
  contextOf,
  EMPTY_RECORD,
  isDeleted,
  liveValues,
  recordsEqual,
  sync,
  update,
  VersionVectorError,
  validateVersionVector,
  vvCounter,
  vvCovers,
  vvDescends,
  vvEqual,
  vvMerge,
  vvNormalize,
} from '../../src/core/version.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array): string => new TextDecoder().decode(value);
const texts = (record: KeyRecord): string[] => liveValues(record).map(text);

/** A get that reads from the given replicas: their records synced, and the resulting context. */
function get(...records: KeyRecord[]): { record: KeyRecord; context: VersionVector } {
  const record = records.reduce(sync, EMPTY_RECORD);
  return { record, context: contextOf(record) };
}

function put(record: KeyRecord | undefined, ctx: VersionVector, actor: ActorId, value: string) {
  return update(record, ctx, actor, bytes(value)).record;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('version vectors', () => {
  it('normalizes: sorted by actor, zeros dropped, duplicates merged by max', () => {
    expect(
      vvNormalize([
        ['b', 2],
        ['a', 0],
        ['c', 1],
        ['b', 5],
      ]),
    ).toEqual([
      ['b', 5],
      ['c', 1],
    ]);
    const canonical: VersionVector = [
      ['a', 1],
      ['b', 2],
    ];
    expect(vvNormalize(canonical)).toBe(canonical);
  });

  it('merges any two vectors as normalizing their concatenation does (property)', () => {
    const vvArb = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat({ max: 5 })), {
      maxLength: 6,
    });
    const canonicalArb = vvArb.map((vv) => vvNormalize(vv));
    fc.assert(
      fc.property(fc.oneof(vvArb, canonicalArb), fc.oneof(vvArb, canonicalArb), (a, b) => {
        expect(vvMerge(a, b)).toEqual(vvNormalize([...a, ...b]));
      }),
    );
  });

  it('merges pointwise and compares', () => {
    const a: VersionVector = [
      ['a', 3],
      ['b', 1],
    ];
    const b: VersionVector = [
      ['b', 2],
      ['c', 1],
    ];
    const merged = vvMerge(a, b);
    expect(merged).toEqual([
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ]);
    expect(vvDescends(merged, a) && vvDescends(merged, b)).toBe(true);
    expect(vvDescends(a, b)).toBe(false);
    expect(vvCounter(a, 'a')).toBe(3);
    expect(vvCounter(a, 'z')).toBe(0);
    expect(vvCovers(a, ['a', 3])).toBe(true);
    expect(vvCovers(a, ['a', 4])).toBe(false);
    expect(
      vvEqual(
        [
          ['b', 1],
          ['a', 2],
        ],
        [
          ['a', 2],
          ['b', 1],
          ['c', 0],
        ],
      ),
    ).toBe(true);
    expect(vvEqual(a, b)).toBe(false);
  });

  it('validates untrusted vectors with a descriptive error', () => {
    expect(
      validateVersionVector([
        ['b', 1],
        ['a', 2],
      ]),
    ).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
    expect(validateVersionVector([])).toEqual([]);
    const bad: unknown[] = [
      null,
      { a: 1 },
      'a',
      [['a']],
      [['a', 1, 2]],
      [['', 1]],
      [['a', 0]],
      [['a', -1]],
      [['a', 1.5]],
      [['a', 2 ** 53]],
      [['a', '1']],
      [[1, 1]],
      [['a', 1n]],
      [null],
    ];
    for (const x of bad) expect(() => validateVersionVector(x)).toThrow(VersionVectorError);
    expect(() =>
      validateVersionVector([
        ['a', 1],
        ['', 1],
      ]),
    ).toThrow(/entry 1/);
  });
});

describe('sync and update', () => {
  it('keeps two blind puts through the same actor as siblings', () => {
    const first = put(undefined, [], 'n1', 'x');
    const both = put(first, [], 'n1', 'y');
    expect(texts(both)).toEqual(['x', 'y']);
    expect(both.siblings.map((s) => s.dot)).toEqual([
      ['n1', 1],
      ['n1', 2],
    ]);
  });

  it('keeps blind puts through different actors as siblings after sync', () => {
    const a = put(undefined, [], 'n1', 'x');
    const b = put(undefined, [], 'n2', 'y');
    expect(texts(sync(a, b))).toEqual(['x', 'y']);
    expect(texts(sync(b, a))).toEqual(['x', 'y']);
  });

  it('replaces both siblings with a put whose context saw both', () => {
    const both = put(put(undefined, [], 'n1', 'x'), [], 'n1', 'y');
    const resolved = put(both, get(both).context, 'n1', 'z');
    expect(texts(resolved)).toEqual(['z']);
  });

  it('keeps a concurrent write the stale context did not see', () => {
    const first = put(undefined, [], 'n1', 'x');
    const stale = get(first).context;
    const both = put(first, [], 'n1', 'y');
    const after = put(both, stale, 'n1', 'z');
    expect(texts(after)).toEqual(['y', 'z']);
  });

  it('resolves through another replica without losing the unseen write', () => {
    const n1 = put(undefined, [], 'n1', 'x');
    const n2 = put(undefined, [], 'n2', 'y');
    const sawX = get(n1).context;
    const n3 = put(sync(n1, n2), sawX, 'n3', 'x2');
    expect(texts(n3)).toEqual(['y', 'x2']);
  });

  it('needs replicas to receive whole records: a lone sibling makes a context over-cover', () => {
    // n1 coordinates two blind puts; its record holds both as siblings.
    const first = update(undefined, [], 'n1', bytes('x'));
    const second = update(first.record, [], 'n1', bytes('y'));
    // Shipping whole records: n2 sees x with y, so a put from a get at n2 replaces both knowingly.
    const whole = put(second.record, get(second.record).context, 'n2', 'z');
    expect(texts(sync(second.record, whole))).toEqual(['z']);
    // Shipping only the new sibling (the first message lost): n2 holds y alone, yet its context
    // {n1: 2} also covers n1:1, so a put resolving y silently drops x it never saw.
    const lone: KeyRecord = { siblings: [second.sibling] };
    const overwrote = put(lone, get(lone).context, 'n2', 'z');
    expect(texts(sync(second.record, overwrote))).toEqual(['z']);
    expect(vvCovers(get(lone).context, first.sibling.dot)).toBe(true);
  });

  it('issues counters above what the context knows of the actor', () => {
    const { sibling } = update(undefined, [['n1', 7]], 'n1', bytes('v'));
    expect(sibling.dot).toEqual(['n1', 8]);
    expect(sibling.past).toEqual([['n1', 7]]);
  });

  it('issues counters above what pasts in the record know of the actor', () => {
    const record: KeyRecord = { siblings: [{ dot: ['n2', 1], past: [['n1', 4]], value: null }] };
    expect(update(record, [], 'n1', bytes('v')).sibling.dot).toEqual(['n1', 5]);
  });

  it('never mutates its inputs', () => {
    const record = deepFreeze(put(put(undefined, [], 'n1', 'x'), [], 'n2', 'y'));
    const context = deepFreeze(
      vvNormalize([
        ['n2', 1],
        ['n1', 1],
      ]),
    );
    const copy = structuredClone(record);
    const { record: next } = update(record, context, 'n1', bytes('z'));
    expect(record).toEqual(copy);
    expect(texts(next)).toEqual(['z']);
    expect(recordsEqual(sync(record, next), next)).toBe(true);
  });

  it('rejects two different writes that carry the same dot', () => {
    const a: KeyRecord = { siblings: [{ dot: ['n1', 1], past: [], value: bytes('x') }] };
    const b: KeyRecord = { siblings: [{ dot: ['n1', 1], past: [], value: bytes('y') }] };
    expect(() => sync(a, b)).toThrow(InvariantError);
  });

  it('compares records bytewise, not by identity', () => {
    const a: KeyRecord = { siblings: [{ dot: ['n1', 1], past: [], value: bytes('x') }] };
    const b: KeyRecord = { siblings: [{ dot: ['n1', 1], past: [], value: bytes('x') }] };
    const c: KeyRecord = { siblings: [{ dot: ['n1', 1], past: [], value: null }] };
    expect(recordsEqual(a, b)).toBe(true);
    expect(recordsEqual(a, c)).toBe(false);
    expect(recordsEqual(a, EMPTY_RECORD)).toBe(false);
  });
});

describe('tombstones', () => {
  const written = put(undefined, [], 'n1', 'x');

  it('a delete with a context leaves only a tombstone', () => {
    const deleted = update(written, get(written).context, 'n1', null).record;
    expect(deleted.siblings).toHaveLength(1);
    expect(deleted.siblings[0]!.value).toBeNull();
    expect(isDeleted(deleted)).toBe(true);
    expect(liveValues(deleted)).toEqual([]);
    expect(contextOf(deleted)).toEqual([['n1', 2]]);
  });

  it("a put with the tombstone's context leaves one live value", () => {
    const deleted = update(written, get(written).context, 'n1', null).record;
    const revived = put(deleted, get(deleted).context, 'n2', 'y');
    expect(texts(revived)).toEqual(['y']);
    expect(revived.siblings).toHaveLength(1);
    expect(isDeleted(revived)).toBe(false);
  });

  it('a blind put concurrent with a delete keeps the value and the tombstone', () => {
    const deleted = update(written, get(written).context, 'n1', null).record;
    const blind = put(written, [], 'n2', 'y');
    const merged = sync(deleted, blind);
    expect(merged.siblings.map((s) => s.value === null)).toEqual([true, false]);
    expect(texts(merged)).toEqual(['y']);
    expect(isDeleted(merged)).toBe(false);
  });

  it('an empty record reads as deleted', () => {
    expect(isDeleted(EMPTY_RECORD)).toBe(true);
    expect(contextOf(EMPTY_RECORD)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests over real histories, checked against a reference model of writes.

const ACTORS: readonly ActorId[] = ['r0', 'r1', 'r2'];
const REPLICA_COUNT = ACTORS.length;

type Step =
  | { readonly kind: 'get'; readonly mask: number }
  | {
      readonly kind: 'put';
      readonly replica: number;
      readonly get: number | null;
      readonly del: boolean;
    }
  | { readonly kind: 'sync'; readonly from: number; readonly to: number };

const replicaArb = fc.integer({ min: 0, max: REPLICA_COUNT - 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({ kind: fc.constant('get'), mask: fc.integer({ min: 1, max: 7 }) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('put'),
      replica: replicaArb,
      get: fc.option(fc.nat(), { nil: null, freq: 4 }),
      del: fc.boolean(),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('sync'), from: replicaArb, to: replicaArb }),
    weight: 3,
  },
) as fc.Arbitrary<Step>;
const historyArb = fc.array(stepArb, { minLength: 1, maxLength: 40 });

/** The reference model's view of one write: which earlier writes its context covered. */
interface Write {
  readonly id: number;
  readonly dot: Dot;
  readonly covers: ReadonlySet<number>;
}

interface History {
  readonly replicas: KeyRecord[];
  /** Ids of the writes each replica has received (coordinated or synced in). */
  readonly knows: Set<number>[];
  readonly writes: Write[];
  readonly gets: { readonly context: VersionVector; readonly seen: ReadonlySet<number> }[];
  /** Every replica record after every step, for the algebraic properties. */
  readonly snapshots: KeyRecord[];
}

const dotKey = (dot: Dot): string => `${dot[0]}/${dot[1]}`;

function idOf(history: History, sibling: Sibling): number {
  const write = history.writes.find((w) => dotKey(w.dot) === dotKey(sibling.dot));
  if (write === undefined) throw new Error(`unknown dot ${dotKey(sibling.dot)}`);
  return write.id;
}

const ids = (history: History, record: KeyRecord): number[] =>
  record.siblings.map((s) => idOf(history, s)).sort((a, b) => a - b);

/** Reference: the known writes that no other known write covered (transitively). */
function expectedIds(history: History, known: ReadonlySet<number>): number[] {
  const covered = new Set<number>();
  for (const id of known) for (const c of history.writes[id]!.covers) covered.add(c);
  return [...known].filter((id) => !covered.has(id)).sort((a, b) => a - b);
}

function runGet(history: History, mask: number): void {
  const chosen = [...Array(REPLICA_COUNT).keys()].filter((r) => (mask >> r) & 1);
  const { context } = get(...chosen.map((r) => history.replicas[r]!));
  const seen = new Set<number>();
  for (const r of chosen) {
    for (const id of history.knows[r]!) {
      seen.add(id);
      for (const c of history.writes[id]!.covers) seen.add(c);
    }
  }
  // The context covers exactly the writes the get saw, directly or through a later write.
  for (const w of history.writes) expect(vvCovers(context, w.dot)).toBe(seen.has(w.id));
  history.gets.push({ context, seen });
}

function runPut(history: History, step: Extract<Step, { kind: 'put' }>): void {
  const seenGet = step.get === null ? undefined : history.gets[step.get % history.gets.length];
  const context = seenGet?.context ?? [];
  const before = history.replicas[step.replica]!;
  const value = step.del ? null : bytes(`w${history.writes.length}`);
  const { record, sibling } = update(before, context, ACTORS[step.replica]!, value);
  const id = history.writes.length;
  history.writes.push({ id, dot: sibling.dot, covers: seenGet?.seen ?? new Set() });
  history.replicas[step.replica] = record;
  history.knows[step.replica]!.add(id);
  // update never drops a sibling its context did not cover, and drops every one it did.
  for (const old of before.siblings) {
    const kept = record.siblings.some((s) => dotKey(s.dot) === dotKey(old.dot));
    expect(kept).toBe(!vvCovers(context, old.dot));
  }
  expect(record.siblings).toContain(sibling);
}

function simulate(steps: readonly Step[]): History {
  const history: History = {
    replicas: ACTORS.map(() => EMPTY_RECORD),
    knows: ACTORS.map(() => new Set<number>()),
    writes: [],
    gets: [],
    snapshots: [],
  };
  for (const step of steps) {
    if (step.kind === 'get') runGet(history, step.mask);
    if (step.kind === 'put') runPut(history, step);
    if (step.kind === 'sync') {
      history.replicas[step.to] = sync(history.replicas[step.to]!, history.replicas[step.from]!);
      for (const id of history.knows[step.from]!) history.knows[step.to]!.add(id);
    }
    history.snapshots.push(...history.replicas);
  }
  return history;
}

function noSiblingObsoletesAnother(record: KeyRecord): boolean {
  return record.siblings.every((s) =>
    record.siblings.every((t) => s === t || !vvCovers(t.past, s.dot)),
  );
}

describe('properties over simulated histories', () => {
  const pick = (history: History, i: number): KeyRecord =>
    history.snapshots[i % history.snapshots.length]!;
  const picksArb = fc.tuple(historyArb, fc.nat(), fc.nat(), fc.nat());

  it('sync is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(picksArb, ([steps, i, j, k]) => {
        const history = simulate(steps);
        const [a, b, c] = [pick(history, i), pick(history, j), pick(history, k)];
        expect(recordsEqual(sync(a, b), sync(b, a))).toBe(true);
        expect(recordsEqual(sync(sync(a, b), c), sync(a, sync(b, c)))).toBe(true);
        expect(recordsEqual(sync(a, a), sync(a, EMPTY_RECORD))).toBe(true);
        expect(recordsEqual(sync(sync(a, b), b), sync(a, b))).toBe(true);
        // Deterministic layout: the same versions give deep-equal (byte-identical) records.
        expect(sync(a, b)).toEqual(sync(b, a));
      }),
      { numRuns: 150 },
    );
  });

  it('update keeps uncovered siblings and contexts cover exactly what gets saw', () => {
    // The checks run inside simulate (runPut, runGet) at every step.
    fc.assert(
      fc.property(historyArb, (steps) => {
        simulate(steps);
      }),
      { numRuns: 200 },
    );
  });

  it('no two siblings of any record obsolete each other', () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        const history = simulate(steps);
        for (const record of history.snapshots)
          expect(noSiblingObsoletesAnother(record)).toBe(true);
        expect(noSiblingObsoletesAnother(history.replicas.reduce(sync, EMPTY_RECORD))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('no lost update, no silent overwrite: records hold exactly the uncovered writes', () => {
    fc.assert(
      fc.property(historyArb, (steps) => {
        const history = simulate(steps);
        for (let r = 0; r < REPLICA_COUNT; r++) {
          const record = history.replicas[r]!;
          expect(ids(history, record)).toEqual(expectedIds(history, history.knows[r]!));
        }
        const all = new Set(history.writes.map((w) => w.id));
        const merged = history.replicas.reduce(sync, EMPTY_RECORD);
        expect(ids(history, merged)).toEqual(expectedIds(history, all));
      }),
      { numRuns: 200 },
    );
  });

  it('a history with concurrent blind writes keeps every one of them', () => {
    const steps: Step[] = [
      { kind: 'put', replica: 0, get: null, del: false },
      { kind: 'put', replica: 1, get: null, del: false },
      { kind: 'put', replica: 2, get: null, del: true },
      { kind: 'sync', from: 0, to: 1 },
      { kind: 'sync', from: 2, to: 1 },
    ];
    const history = simulate(steps);
    expect(ids(history, history.replicas[1]!)).toEqual([0, 1, 2]);
    expect(texts(history.replicas[1]!)).toEqual(['w0', 'w1']);
  });
});
