import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvariantError } from '../../src/core/assert.js';
import { hashKey, murmur3, PARTITION_COUNT_MAX, Ring } from '../../src/core/ring.js';
import { type NodeId, nodeId } from '../../src/core/types.js';

// ---------------------------------------------------------------------------------------------
// Reference implementations: deliberately naive, sharing no code with src/core/ring.ts.

/**
 * The first min(n, distinct owners) distinct owners walking clockwise from `partition`. Not
 * exported: biome forbids exports from test files (importing one re-runs its tests).
 */
function naivePreferenceList(owners: readonly NodeId[], partition: number, n: number): NodeId[] {
  const wanted = Math.min(n, new Set(owners).size);
  const list: NodeId[] = [];
  for (let i = 0; list.length < wanted; i++) {
    const owner = owners[(partition + i) % owners.length]!;
    if (!list.includes(owner)) list.push(owner);
  }
  return list;
}

/** UTF-8 by hand, code point by code point; a lone surrogate becomes U+FFFD as in TextEncoder. */
function utf8(text: string): number[] {
  const bytes: number[] = [];
  for (const char of text) {
    let cp = char.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) bytes.push(cp);
    else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) {
      bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    } else {
      bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63));
      bytes.push(0x80 | (cp & 63));
    }
  }
  return bytes;
}

const MASK_32 = 0xffffffffn;
const mul32 = (a: bigint, b: bigint): bigint => (a * b) & MASK_32;
const rotl32 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (32n - r))) & MASK_32;

/** murmur3 x86 32-bit in BigInt arithmetic, a byte at a time, straight from the description. */
function naiveMurmur3(bytes: readonly number[], seed: number): number {
  const scramble = (k: bigint) => mul32(rotl32(mul32(k, 0xcc9e2d51n), 15n), 0x1b873593n);
  let h = BigInt(seed >>> 0);
  let i = 0;
  for (; i + 4 <= bytes.length; i += 4) {
    let k = 0n;
    for (let j = 3; j >= 0; j--) k = (k << 8n) + BigInt(bytes[i + j]!);
    h = rotl32(h ^ scramble(k), 13n);
    h = (h * 5n + 0xe6546b64n) & MASK_32;
  }
  let tail = 0n;
  for (let j = bytes.length - 1; j >= i; j--) tail = (tail << 8n) + BigInt(bytes[j]!);
  if (i < bytes.length) h ^= scramble(tail);
  h ^= BigInt(bytes.length) & MASK_32;
  h ^= h >> 16n;
  h = mul32(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul32(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return Number(h);
}

// ---------------------------------------------------------------------------------------------
// Helpers

const ids = (count: number, prefix = 'n'): NodeId[] =>
  Array.from({ length: count }, (_, i) => nodeId(`${prefix}${i + 1}`));

function loads(ring: Ring): Map<NodeId, number> {
  const counts = new Map<NodeId, number>();
  for (const owner of ring.owners) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return counts;
}

/** Pairs of partitions less than `spacing` apart (ring-wise) with the same owner. */
function spacingConflicts(owners: readonly NodeId[], spacing: number): number {
  let conflicts = 0;
  for (let p = 0; p < owners.length; p++) {
    for (let d = 1; d < spacing; d++)
      if (owners[p] === owners[(p + d) % owners.length]) conflicts++;
  }
  return conflicts;
}

function expectBalanced(ring: Ring): void {
  const nodeCount = ring.nodes().length;
  const floor = Math.floor(ring.partitionCount / nodeCount);
  const ceil = Math.ceil(ring.partitionCount / nodeCount);
  for (const [, count] of loads(ring)) {
    expect(count).toBeGreaterThanOrEqual(floor);
    expect(count).toBeLessThanOrEqual(ceil);
  }
}

function changedPartitions(before: Ring, after: Ring): number[] {
  const changed: number[] = [];
  for (let p = 0; p < before.partitionCount; p++) {
    if (before.owners[p] !== after.owners[p]) changed.push(p);
  }
  return changed;
}

type Op = { readonly kind: 'join' } | { readonly kind: 'leave'; readonly pick: number };
interface Scenario {
  readonly exponent: number;
  readonly initial: number;
  readonly ops: readonly Op[];
}
interface Step {
  readonly before: Ring;
  readonly after: Ring;
  readonly op: 'join' | 'leave';
  readonly id: NodeId;
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant({ kind: 'join' } as const),
  fc.nat(1000).map((pick) => ({ kind: 'leave', pick }) as const),
);
const scenarioArb = (exponentMax: number): fc.Arbitrary<Scenario> =>
  fc.record({
    exponent: fc.integer({ min: 0, max: exponentMax }),
    initial: fc.integer({ min: 1, max: 12 }),
    ops: fc.array(opArb, { maxLength: 10 }),
  });

/** Plays a scenario: create, then each op that is legal (a join needs room, a leave a spare). */
function play(scenario: Scenario, onStep: (step: Step) => void = () => {}): Ring {
  const partitionCount = 2 ** scenario.exponent;
  let ring = Ring.create(ids(Math.min(scenario.initial, partitionCount)), partitionCount);
  let joined = 0;
  for (const op of scenario.ops) {
    const nodes = ring.nodes();
    const before = ring;
    if (op.kind === 'join' && nodes.length < partitionCount) {
      const id = nodeId(`j${++joined}`);
      ring = ring.withNode(id);
      onStep({ before, after: ring, op: 'join', id });
    } else if (op.kind === 'leave' && nodes.length > 1) {
      const id = nodes[op.pick % nodes.length]!;
      ring = ring.withoutNode(id);
      onStep({ before, after: ring, op: 'leave', id });
    }
  }
  return ring;
}

const FC_OPTIONS = { seed: 20240611, numRuns: 150 } as const;

// ---------------------------------------------------------------------------------------------

describe('hashKey: murmur3 x86 32-bit over UTF-8', () => {
  it('matches published vectors for strings (seed 0)', () => {
    const vectors: [string, number][] = [
      ['', 0],
      ['hello', 0x248bfa47],
      ['test', 0xba6bd213],
      ['Hello, world!', 0xc0363e43],
      ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
    ];
    for (const [key, expected] of vectors) {
      expect(hashKey(key)).toBe(expected);
      expect(naiveMurmur3(utf8(key), 0)).toBe(expected);
    }
  });

  it('matches published vectors for bytes and seeds', () => {
    const vectors: [number[], number, number][] = [
      [[], 1, 0x514e28b7],
      [[], 0xffffffff, 0x81f16f39],
      [[0xff, 0xff, 0xff, 0xff], 0, 0x76293b50],
      [[0x21, 0x43, 0x65, 0x87], 0, 0xf55b516b],
      [[0x21, 0x43, 0x65, 0x87], 0x5082edee, 0x2362f9de],
      [[0x21, 0x43, 0x65], 0, 0x7e4a8634],
      [[0x21, 0x43], 0, 0xa0f7b07a],
      [[0x21], 0, 0x72661cf4],
      [[0, 0, 0, 0], 0, 0x2362f9de],
      [[0, 0, 0], 0, 0x85f0b427],
      [[0, 0], 0, 0x30f4c306],
      [[0], 0, 0x514e28b7],
    ];
    for (const [bytes, seed, expected] of vectors) {
      expect(murmur3(Uint8Array.from(bytes), seed)).toBe(expected);
      expect(naiveMurmur3(bytes, seed)).toBe(expected);
    }
  });

  it('equals the naive reference on arbitrary UTF-16 strings, lone surrogates included', () => {
    const unitsArb = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 });
    const keyArb = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      unitsArb.map((units) => String.fromCharCode(...units)),
    );
    fc.assert(
      fc.property(keyArb, (key) => {
        expect(hashKey(key)).toBe(naiveMurmur3(utf8(key), 0));
        expect(hashKey(key)).toBe(murmur3(new TextEncoder().encode(key)));
      }),
      { ...FC_OPTIONS, numRuns: 250 },
    );
  });

  it('hashes keys longer than the scratch buffer like short ones', () => {
    for (const key of ['k'.repeat(1024), 'k'.repeat(1025), 'é'.repeat(3000), '🙂'.repeat(700)]) {
      expect(hashKey(key)).toBe(naiveMurmur3(utf8(key), 0));
    }
  });
});

describe('partitions are contiguous equal hash ranges', () => {
  it('partition p covers [p * 2^32/Q, (p+1) * 2^32/Q), tiling the hash space', () => {
    for (let exponent = 0; exponent <= 16; exponent++) {
      const ring = Ring.create(ids(1), 2 ** exponent);
      const q = ring.partitionCount;
      expect(ring.hashRangeOf(0)[0]).toBe(0);
      expect(ring.hashRangeOf(q - 1)[1]).toBe(2 ** 32);
      for (const p of [0, q >> 1, q - 1]) {
        const [start, end] = ring.hashRangeOf(p);
        expect(end - start).toBe(2 ** 32 / q);
        expect(ring.partitionOfHash(start)).toBe(p);
        expect(ring.partitionOfHash(end - 1)).toBe(p);
        if (p + 1 < q) expect(ring.hashRangeOf(p + 1)[0]).toBe(end);
      }
    }
  });

  it('a key lands in the partition whose range holds its hash; Q = 1 maps all to 0', () => {
    const rings = [0, 1, 4, 10, 16].map((exponent) => Ring.create(ids(1), 2 ** exponent));
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 0xffffffff }), (key, hash) => {
        for (const ring of rings) {
          const p = ring.partitionOf(key);
          const [start, end] = ring.hashRangeOf(p);
          expect(hashKey(key)).toBeGreaterThanOrEqual(start);
          expect(hashKey(key)).toBeLessThan(end);
          expect(ring.partitionOfHash(hash)).toBe(
            Math.floor(hash / (2 ** 32 / ring.partitionCount)),
          );
        }
        expect(rings[0]!.partitionOf(key)).toBe(0);
      }),
      FC_OPTIONS,
    );
  });
});

describe('Ring.create', () => {
  it('places round robin in the given order and balances', () => {
    const ring = Ring.create(ids(4), 16);
    expect(ring.owners.slice(0, 8)).toEqual(['n1', 'n2', 'n3', 'n4', 'n1', 'n2', 'n3', 'n4']);
    expect(ring.nodes()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(ring.partitionsOf(nodeId('n2'))).toEqual([1, 5, 9, 13]);
    expect(ring.partitionsOf(nodeId('zz'))).toEqual([]);
    expect(ring.ownerOf(6)).toBe('n3');
    expect(ring.partitionCount).toBe(16);
    expect(Object.isFrozen(ring.owners)).toBe(true);
  });

  it('keeps every node spacing apart across the wrap too (4+ nodes)', () => {
    for (let exponent = 2; exponent <= 12; exponent++) {
      const q = 2 ** exponent;
      for (let count = 4; count <= Math.min(q, 48); count++) {
        const ring = Ring.create(ids(count), q);
        expect(spacingConflicts(ring.owners, 3), `Q=${q} nodes=${count}`).toBe(0);
        expectBalanced(ring);
      }
    }
    expect(spacingConflicts(Ring.create(ids(9), 256, 5).owners, 5)).toBe(0);
  });

  it('with no spacing conflict each node replicates exactly N times its partitions', () => {
    for (const [count, q] of [
      [5, 256],
      [7, 1024],
      [11, 1024],
    ] as const) {
      const ring = Ring.create(ids(count), q);
      const replicas = new Map<NodeId, number>();
      for (let p = 0; p < q; p++) {
        for (const id of ring.preferenceListForPartition(p, 3)) {
          replicas.set(id, (replicas.get(id) ?? 0) + 1);
        }
      }
      for (const [id, owned] of loads(ring)) expect(replicas.get(id)).toBe(3 * owned);
    }
  });

  it('fromOwners round-trips a ring', () => {
    const ring = Ring.create(ids(5), 64).withNode(nodeId('x'));
    const copy = Ring.fromOwners([...ring.owners]);
    expect(copy.owners).toEqual(ring.owners);
    expect(copy.nodes()).toEqual(ring.nodes());
    expect(copy.preferenceList('some-key', 3)).toEqual(ring.preferenceList('some-key', 3));
  });
});

describe('preference lists', () => {
  it('equal the naive walk on rings built by random joins and leaves', () => {
    fc.assert(
      fc.property(scenarioArb(7), fc.array(fc.string(), { maxLength: 8 }), (scenario, keys) => {
        const ring = play(scenario);
        const nodeCount = ring.nodes().length;
        for (const n of new Set([1, 2, 3, nodeCount, nodeCount + 2])) {
          for (let p = 0; p < ring.partitionCount; p++) {
            const list = ring.preferenceListForPartition(p, n);
            expect(list).toEqual(naivePreferenceList(ring.owners, p, n));
          }
          for (const key of keys) {
            const list = ring.preferenceList(key, n);
            expect(list.length).toBe(Math.min(n, nodeCount));
            expect(new Set(list).size).toBe(list.length);
            expect(list[0]).toBe(ring.ownerOf(ring.partitionOf(key)));
            expect(list).toEqual(naivePreferenceList(ring.owners, ring.partitionOf(key), n));
          }
        }
      }),
      FC_OPTIONS,
    );
  });

  it('are cached: the same frozen list comes back', () => {
    const ring = Ring.create(ids(5), 1024);
    const first = ring.preferenceList('user:42', 3);
    expect(ring.preferenceList('user:42', 3)).toBe(first);
    expect(ring.preferenceListForPartition(ring.partitionOf('user:42'), 3)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // n beyond the node count returns every node, sharing the cache for n = nodes.
    expect(ring.preferenceList('user:42', 99)).toBe(ring.preferenceList('user:42', 5));
    expect([...ring.preferenceList('user:42', 99)].sort()).toEqual(ring.nodes());
  });
});

describe('withNode and withoutNode', () => {
  it('move only what the joiner takes or the leaver gives, and stay balanced', () => {
    fc.assert(
      fc.property(scenarioArb(9), (scenario) => {
        expectBalanced(
          play(scenario, ({ before, after, op, id }) => {
            expectBalanced(after);
            const changed = changedPartitions(before, after);
            if (op === 'join') {
              expect(after.nodes().length).toBe(before.nodes().length + 1);
              for (const p of changed) expect(after.owners[p]).toBe(id);
              const share = Math.floor(before.partitionCount / after.nodes().length);
              expect(changed.length).toBe(share);
            } else {
              expect(after.nodes()).not.toContain(id);
              expect(changed).toEqual(before.partitionsOf(id));
            }
          }),
        );
      }),
      FC_OPTIONS,
    );
  });

  it('are deterministic: the same sequence builds the same ring', () => {
    fc.assert(
      fc.property(scenarioArb(9), (scenario) => {
        expect(play(scenario).owners).toEqual(play(scenario).owners);
      }),
      { ...FC_OPTIONS, numRuns: 50 },
    );
  });

  it('keep a conflict-free ring of 4+ nodes conflict-free under joins, spread out', () => {
    const joinsArb = fc.record({
      exponent: fc.integer({ min: 6, max: 10 }),
      initial: fc.integer({ min: 4, max: 12 }),
      joins: fc.integer({ min: 1, max: 6 }),
    });
    fc.assert(
      fc.property(joinsArb, ({ exponent, initial, joins }) => {
        let ring = Ring.create(ids(initial), 2 ** exponent);
        for (let i = 1; i <= joins; i++) {
          ring = ring.withNode(nodeId(`j${i}`));
          expect(spacingConflicts(ring.owners, 3)).toBe(0);
          const mine = ring.partitionsOf(nodeId(`j${i}`));
          const gaps = mine.map((p, k) => (mine[k + 1] ?? mine[0]! + ring.partitionCount) - p);
          const meanGap = ring.partitionCount / mine.length;
          expect(Math.max(...gaps)).toBeLessThanOrEqual(3 * meanGap);
        }
      }),
      { ...FC_OPTIONS, numRuns: 60 },
    );
  });

  it('a join heals spacing conflicts left by leaves', () => {
    const crowded = Ring.create(ids(6), 256).withoutNode(nodeId('n3'));
    const conflicts = spacingConflicts(crowded.owners, 3);
    expect(conflicts).toBeGreaterThan(0);
    expect(spacingConflicts(crowded.withNode(nodeId('x')).owners, 3)).toBeLessThan(conflicts);
  });

  it('a join moves about 1/(n+1) of the keys, all to the joiner', () => {
    const before = Ring.create(ids(10), 1024);
    const after = before.withNode(nodeId('n11'));
    let moved = 0;
    const keyCount = 20_000;
    for (let i = 0; i < keyCount; i++) {
      const key = `key-${i}`;
      const owner = after.ownerOf(after.partitionOf(key));
      if (owner !== before.ownerOf(before.partitionOf(key))) {
        moved++;
        expect(owner).toBe('n11');
      }
    }
    expect(moved / keyCount).toBeLessThan(1.2 / 11);
    expect(moved / keyCount).toBeGreaterThan(0.8 / 11);
  });
});

describe('bad input', () => {
  const n = ids(3);
  it('create rejects empty, duplicate or blank ids and bad sizes', () => {
    expect(() => Ring.create([], 8)).toThrow(RangeError);
    expect(() => Ring.create([n[0]!, n[1]!, n[0]!], 8)).toThrow(/duplicate node id n1/);
    expect(() => Ring.create([nodeId('')], 8)).toThrow(RangeError);
    for (const q of [0, 3, 12, 1.5, -4, Number.NaN, PARTITION_COUNT_MAX * 2]) {
      expect(() => Ring.create(n, q)).toThrow(/power of two/);
    }
    expect(() => Ring.create(n, 2)).toThrow(/at least as many partitions/);
    expect(() => Ring.create(n, 8, 0)).toThrow(/spacing/);
  });

  it('withNode rejects a member or a full ring; withoutNode a stranger or the last node', () => {
    const ring = Ring.create(n, 4);
    expect(() => ring.withNode(nodeId('n2'))).toThrow(/already in the ring/);
    expect(() => ring.withNode(nodeId('n4')).withNode(nodeId('n5'))).toThrow(/do not fit/);
    expect(() => ring.withoutNode(nodeId('n9'))).toThrow(/not in the ring/);
    expect(() => Ring.create([nodeId('solo')], 4).withoutNode(nodeId('solo'))).toThrow(/last node/);
  });

  it('fromOwners rejects a size that is not a power of two and blank owners', () => {
    expect(() => Ring.fromOwners([])).toThrow(RangeError);
    expect(() => Ring.fromOwners(ids(3))).toThrow(/power of two/);
    expect(() => Ring.fromOwners([nodeId('a'), nodeId('')])).toThrow(/non-empty/);
  });

  it('partition lookups reject partitions out of range; a list length below 1 is a bug', () => {
    const ring = Ring.create(n, 8);
    for (const p of [-1, 8, 1.5]) {
      expect(() => ring.preferenceListForPartition(p, 3)).toThrow(RangeError);
      expect(() => ring.ownerOf(p)).toThrow(RangeError);
    }
    expect(() => ring.preferenceList('k', 0)).toThrow(InvariantError);
  });
});
