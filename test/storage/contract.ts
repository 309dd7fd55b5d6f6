/**
 * The StorageEngine acceptance suite (automerge-repo's `runStorageAdapterTests` shape): every
 * engine runs exactly these tests, so engines are interchangeable under the protocol core.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  hintKey,
  type KeyRecord,
  type Namespace,
  nodeId,
  type PersistWrite,
  parseHintKey,
  type Sibling,
} from '../../src/core/types.js';
import {
  compareStorageKeys,
  STORAGE_KEY_BYTES_MAX,
  StorageClosedError,
  type StorageEngine,
  StorageError,
} from '../../src/storage/engine.js';

/**
 * What the suite exercises: a StorageEngine minus its `kind` tag, so a store that is not a
 * production backend (the simulator's, behind a thin adapter) runs the same tests.
 */
export type ContractEngine = Omit<StorageEngine, 'kind'>;

export interface StorageContractFactory {
  /** A fresh, empty engine for the current test (for lmdb: in a new directory). */
  open(): Promise<ContractEngine>;
  /** Given for durable engines: opens the location of the last `open()` again. */
  reopen?(): Promise<ContractEngine>;
  /**
   * False for a store without a lifecycle of its own (the simulator's: a crash simply stops
   * applying persists), which skips the `close` tests. @default true
   */
  readonly closable?: boolean;
  /** Runs after each test, once the suite closed every engine it opened. */
  cleanup?(): Promise<void> | void;
}

/** Bounds tests that must settle ("never hangs") well below vitest's default timeout. */
const SETTLE_TIMEOUT_MS = 2000;

function sibling(actor: string, counter: number, value: Uint8Array | null): Sibling {
  return { dot: [actor, counter], past: [[actor, counter - 1]], value };
}

function record(...values: (Uint8Array | null)[]): KeyRecord {
  return { siblings: values.map((value, i) => sibling(`n${i + 1}`, i + 1, value)) };
}

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

function keysOf(
  engine: ContractEngine,
  options?: { ns?: Namespace; startKey?: string; limit?: number },
): string[] {
  return [...engine.entries(options)].map(([key]) => key);
}

function hintKeys(engine: ContractEngine): string[] {
  return keysOf(engine, { ns: 'hints' });
}

/** Code point order, computed independently of compareStorageKeys: by UTF-8 bytes. */
function utf8Sorted(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Asserts the plain-data shape of a record read back, values byte for byte. */
function expectSameRecord(actual: KeyRecord | undefined, expected: KeyRecord): void {
  expect(actual).toBeDefined();
  expect(actual!.siblings).toHaveLength(expected.siblings.length);
  actual!.siblings.forEach((got, i) => {
    const want = expected.siblings[i]!;
    expect(got.dot).toEqual(want.dot);
    expect(got.past).toEqual(want.past);
    expect(got.rid).toBe(want.rid);
    expect(got.expiresAtMs).toBe(want.expiresAtMs);
    if (want.value === null) {
      expect(got.value).toBeNull();
    } else {
      expect(got.value).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(got.value!).equals(Buffer.from(want.value))).toBe(true);
    }
  });
}

/** mulberry32: a tiny seeded PRNG, so a failing sequence replays exactly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runStorageContract(name: string, factory: StorageContractFactory): void {
  describe(`StorageEngine contract: ${name}`, () => {
    const opened: ContractEngine[] = [];
    const open = async (): Promise<ContractEngine> => {
      const engine = await factory.open();
      opened.push(engine);
      return engine;
    };
    const reopen = async (): Promise<ContractEngine> => {
      const engine = await factory.reopen!();
      opened.push(engine);
      return engine;
    };

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((engine) => engine.close()));
      await factory.cleanup?.();
    });

    describe('reads and writes', () => {
      it('reports a missing key, and a key no engine can store, as undefined', async () => {
        const engine = await open();
        expect(engine.get('missing')).toBeUndefined();
        expect(engine.get('')).toBeUndefined();
        expect(engine.get('\uD800')).toBeUndefined();
        expect(engine.get('x'.repeat(STORAGE_KEY_BYTES_MAX + 1))).toBeUndefined();
        expect(engine.count()).toBe(0);
      });

      it('round-trips siblings, tombstones and empty values', async () => {
        const engine = await open();
        const siblings = record(bytes(1, 2, 3), null, new Uint8Array(0), bytes(0, 255));
        const tombstone = record(null);
        await engine.write([
          { ns: 'data', key: 'siblings', record: siblings },
          { ns: 'data', key: 'tombstone', record: tombstone },
          { ns: 'data', key: 'no-siblings', record: { siblings: [] } },
        ]);
        expectSameRecord(engine.get('siblings'), siblings);
        expectSameRecord(engine.get('tombstone'), tombstone);
        expect(engine.get('no-siblings')).toEqual({ siblings: [] });
      });

      it('round-trips a 1 MiB value', async () => {
        const engine = await open();
        const large = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
        await engine.write([{ ns: 'data', key: 'large', record: record(large) }]);
        expectSameRecord(engine.get('large'), record(large));
      });

      it('stores unicode keys and the longest allowed key distinctly', async () => {
        const engine = await open();
        const keys = ['é', 'e\u0301', '日本語', '😀', '\uFFFD', 'a\u0000b', 'ä'.repeat(989)];
        expect(Buffer.byteLength(keys[6]!)).toBe(STORAGE_KEY_BYTES_MAX);
        await engine.write(keys.map((key, i) => ({ ns: 'data', key, record: record(bytes(i)) })));
        for (const [i, key] of keys.entries()) expectSameRecord(engine.get(key), record(bytes(i)));
        expect(engine.count()).toBe(keys.length);
      });

      it('overwrites a key with the newer record', async () => {
        const engine = await open();
        await engine.write([{ ns: 'data', key: 'k', record: record(bytes(1)) }]);
        await engine.write([{ ns: 'data', key: 'k', record: record(bytes(2), bytes(3)) }]);
        expectSameRecord(engine.get('k'), record(bytes(2), bytes(3)));
        expect(engine.count()).toBe(1);
      });

      it('removes a key when the record is null, and ignores removing a missing key', async () => {
        const engine = await open();
        await engine.write([{ ns: 'data', key: 'k', record: record(bytes(1)) }]);
        await engine.write([
          { ns: 'data', key: 'k', record: null },
          { ns: 'data', key: 'never-written', record: null },
        ]);
        expect(engine.get('k')).toBeUndefined();
        expect(engine.count()).toBe(0);
        expect(keysOf(engine)).toEqual([]);
      });
    });

    describe('batches', () => {
      it('lets the last change to a key in a batch win', async () => {
        const engine = await open();
        await engine.write([{ ns: 'data', key: 'removed-last', record: record(bytes(0)) }]);
        await engine.write([
          { ns: 'data', key: 'put-twice', record: record(bytes(1)) },
          { ns: 'data', key: 'put-twice', record: record(bytes(2)) },
          { ns: 'data', key: 'removed-last', record: record(bytes(3)) },
          { ns: 'data', key: 'removed-last', record: null },
          { ns: 'data', key: 'put-after-remove', record: null },
          { ns: 'data', key: 'put-after-remove', record: record(bytes(4)) },
        ]);
        expectSameRecord(engine.get('put-twice'), record(bytes(2)));
        expect(engine.get('removed-last')).toBeUndefined();
        expectSameRecord(engine.get('put-after-remove'), record(bytes(4)));
        expect(engine.count()).toBe(2);
      });

      it('rejects a batch with an invalid key and stores none of it', async () => {
        const engine = await open();
        await engine.write([{ ns: 'data', key: 'kept', record: record(bytes(1)) }]);
        for (const badKey of ['', '\uDC00x', 'y'.repeat(STORAGE_KEY_BYTES_MAX + 1)]) {
          const batch: PersistWrite[] = [
            { ns: 'data', key: 'kept', record: null },
            { ns: 'data', key: 'new', record: record(bytes(2)) },
            { ns: 'data', key: badKey, record: record(bytes(3)) },
          ];
          await expect(engine.write(batch)).rejects.toBeInstanceOf(StorageError);
        }
        expectSameRecord(engine.get('kept'), record(bytes(1)));
        expect(engine.get('new')).toBeUndefined();
        expect(engine.count()).toBe(1);
      });

      it('lands 100 concurrent writes, applied in call order', async () => {
        const engine = await open();
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 100; i++) {
          writes.push(
            engine.write([
              { ns: 'data', key: `key-${i}`, record: record(bytes(i)) },
              { ns: 'data', key: 'shared', record: record(bytes(i)) },
            ]),
          );
        }
        await Promise.all(writes);
        expect(engine.count()).toBe(101);
        for (let i = 0; i < 100; i++) expectSameRecord(engine.get(`key-${i}`), record(bytes(i)));
        expectSameRecord(engine.get('shared'), record(bytes(99)));
      });

      it('shows a batch to get once its write resolved', async () => {
        const engine = await open();
        const pending = engine.write([{ ns: 'data', key: 'k', record: record(bytes(1)) }]);
        const seen = engine.get('k'); // either state is allowed before the write resolved
        expect(seen === undefined || seen.siblings.length === 1).toBe(true);
        await pending;
        expectSameRecord(engine.get('k'), record(bytes(1)));
      });
    });

    describe('entries and count', () => {
      const unordered = ['b', 'a', 'ab', '\uE000', '😀', 'é', 'A', 'Z', '\uFFFF', 'aa', '0', '~'];

      async function filled(): Promise<ContractEngine> {
        const engine = await open();
        await engine.write(
          unordered.map((key) => ({ ns: 'data', key, record: record(bytes(key.length)) })),
        );
        return engine;
      }

      it('yields all entries in code point (UTF-8 byte) order', async () => {
        const engine = await filled();
        const expected = utf8Sorted(unordered);
        expect(expected.indexOf('😀')).toBeGreaterThan(expected.indexOf('\uFFFF')); // not UTF-16 order
        expect(keysOf(engine)).toEqual(expected);
        expect([...unordered].sort(compareStorageKeys)).toEqual(expected);
        for (const [key, stored] of engine.entries()) {
          expectSameRecord(stored, record(bytes(key.length)));
        }
      });

      it('starts at startKey inclusive, whether or not it exists', async () => {
        const engine = await filled();
        const sorted = utf8Sorted(unordered);
        expect(keysOf(engine, { startKey: 'ab' })).toEqual(sorted.slice(sorted.indexOf('ab')));
        expect(keysOf(engine, { startKey: 'aaa' })).toEqual(sorted.slice(sorted.indexOf('ab')));
        expect(keysOf(engine, { startKey: '' })).toEqual(sorted);
        expect(keysOf(engine, { startKey: '\u{10FFFF}' })).toEqual([]);
      });

      it('yields at most limit entries and pages with startKey', async () => {
        const engine = await filled();
        const sorted = utf8Sorted(unordered);
        expect(keysOf(engine, { limit: 3 })).toEqual(sorted.slice(0, 3));
        expect(keysOf(engine, { limit: 0 })).toEqual([]);
        expect(keysOf(engine, { startKey: 'b', limit: 2 })).toEqual(
          sorted.slice(sorted.indexOf('b'), sorted.indexOf('b') + 2),
        );
        const paged: string[] = [];
        let startKey = '';
        for (let page = 0; page < 10; page++) {
          const keys = keysOf(engine, { startKey, limit: 5 });
          paged.push(...keys.filter((key) => key !== startKey));
          if (keys.length < 5) break;
          startKey = keys[keys.length - 1]!;
        }
        expect(paged).toEqual(sorted);
      });

      it('rejects a bad limit or startKey', async () => {
        const engine = await filled();
        expect(() => keysOf(engine, { limit: -1 })).toThrow(StorageError);
        expect(() => keysOf(engine, { limit: 1.5 })).toThrow(StorageError);
        expect(() => keysOf(engine, { startKey: '\uD800' })).toThrow(StorageError);
      });

      it('reflects writes and removals in entries and count', async () => {
        const engine = await filled();
        await engine.write([
          { ns: 'data', key: 'a', record: null },
          { ns: 'data', key: 'new', record: record(null) },
          { ns: 'data', key: 'b', record: record(bytes(9)) },
        ]);
        const expected = utf8Sorted([...unordered.filter((key) => key !== 'a'), 'new']);
        expect(keysOf(engine)).toEqual(expected);
        expect(engine.count()).toBe(expected.length);
        await engine.write([{ ns: 'data', key: 'a', record: record(bytes(1)) }]);
        expect(keysOf(engine)).toEqual(utf8Sorted([...expected, 'a']));
      });

      it('matches a reference map over a seeded mix of puts and removes', async () => {
        const engine = await open();
        const reference = new Map<string, number>();
        const random = seededRandom(0x5eed);
        const keyPool = ['k', 'k1', 'k10', 'k2', 'ü', '😀', '\uE000', 'z', 'a b', 'A'];
        for (let round = 0; round < 40; round++) {
          const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, (): PersistWrite => {
            const key = keyPool[Math.floor(random() * keyPool.length)]!;
            const value = random() < 0.35 ? null : Math.floor(random() * 256);
            if (value === null) reference.delete(key);
            else reference.set(key, value);
            return { ns: 'data', key, record: value === null ? null : record(bytes(value)) };
          });
          await engine.write(batch);
          const expected = utf8Sorted([...reference.keys()]);
          expect(keysOf(engine)).toEqual(expected);
          expect(engine.count()).toBe(expected.length);
          // An engine that can read in any order yields the same entries, each once.
          if (engine.unordered !== undefined) {
            const any = [...engine.unordered('data')];
            expect(utf8Sorted(any.map(([key]) => key))).toEqual(expected);
            for (const [key, found] of any) expect(found).toBe(engine.get(key));
          }
          for (const [key, value] of reference)
            expectSameRecord(engine.get(key), record(bytes(value)));
        }
      });

      it('can stop iterating early and keep using the engine', async () => {
        const engine = await filled();
        const firstTwo: string[] = [];
        for (const [key] of engine.entries()) {
          firstTwo.push(key);
          if (firstTwo.length === 2) break;
        }
        expect(firstTwo).toEqual(utf8Sorted(unordered).slice(0, 2));
        await engine.write([{ ns: 'data', key: 'after', record: record(bytes(1)) }]);
        expect(engine.count()).toBe(unordered.length + 1);
      });
    });

    describe('namespaces', () => {
      it('keeps the same key in data and hints apart', async () => {
        const engine = await open();
        await engine.write([
          { ns: 'data', key: 'k', record: record(bytes(1)) },
          { ns: 'hints', key: 'k', record: record(bytes(2), null) },
        ]);
        expectSameRecord(engine.get('k'), record(bytes(1)));
        expectSameRecord(engine.get('k', 'data'), record(bytes(1)));
        expectSameRecord(engine.get('k', 'hints'), record(bytes(2), null));
        expect(engine.count()).toBe(1);
        expect(engine.count('hints')).toBe(1);

        await engine.write([{ ns: 'data', key: 'k', record: null }]);
        expect(engine.get('k')).toBeUndefined();
        expectSameRecord(engine.get('k', 'hints'), record(bytes(2), null));
        await engine.write([{ ns: 'hints', key: 'only-hint', record: record(bytes(3)) }]);
        expect(engine.get('only-hint')).toBeUndefined();
        expect(engine.count('data')).toBe(0);
        expect(engine.count('hints')).toBe(2);
        expect(keysOf(engine)).toEqual([]);
        expect(hintKeys(engine)).toEqual(['k', 'only-hint']);
      });

      it('lists and counts each namespace on its own', async () => {
        const engine = await open();
        const dataKeys = ['d3', 'shared', 'd1', '😀', '\uE000'];
        const hintOnly = ['h2', 'shared', 'h1', 'a\u0000b', 'a'];
        await engine.write([
          ...dataKeys.map((key): PersistWrite => ({ ns: 'data', key, record: record(bytes(1)) })),
          ...hintOnly.map((key): PersistWrite => ({ ns: 'hints', key, record: record(bytes(2)) })),
        ]);
        expect(keysOf(engine)).toEqual(utf8Sorted(dataKeys));
        expect(keysOf(engine, { ns: 'data' })).toEqual(utf8Sorted(dataKeys));
        expect(hintKeys(engine)).toEqual(utf8Sorted(hintOnly));
        expect(engine.count()).toBe(dataKeys.length);
        expect(engine.count('hints')).toBe(hintOnly.length);
        for (const [, stored] of engine.entries({ ns: 'hints' })) {
          expectSameRecord(stored, record(bytes(2)));
        }
        const sortedHints = utf8Sorted(hintOnly);
        expect(keysOf(engine, { ns: 'hints', startKey: 'h', limit: 2 })).toEqual(
          sortedHints.slice(sortedHints.indexOf('h1'), sortedHints.indexOf('h1') + 2),
        );
        expect(keysOf(engine, { ns: 'hints', limit: 0 })).toEqual([]);
        expect(keysOf(engine, { ns: 'data', startKey: 'e' })).toEqual(
          utf8Sorted(dataKeys).filter((key) => compareStorageKeys(key, 'e') >= 0),
        );

        await engine.write([
          { ns: 'hints', key: 'shared', record: null },
          { ns: 'data', key: 'new', record: record(null) },
        ]);
        expect(hintKeys(engine)).toEqual(sortedHints.filter((key) => key !== 'shared'));
        expect(keysOf(engine)).toEqual(utf8Sorted([...dataKeys, 'new']));
        expect(engine.count('hints')).toBe(hintOnly.length - 1);
        expect(engine.count('data')).toBe(dataKeys.length + 1);
      });

      it('keeps the hint keys of one target together, targets in code point order', async () => {
        const engine = await open();
        const targets = ['n2', 'n1', 'n10', 'n1a', 'n1\uFFFF', 'n1😀'].map(nodeId);
        const keys = ['z', 'a', '\u0001', ' ', '😀', '\uE000', 'a\u0000b', 'n2'];
        const stored = targets.flatMap((target) => keys.map((key) => hintKey(target, key)));
        await engine.write(
          stored.map((key): PersistWrite => ({ ns: 'hints', key, record: record(bytes(1)) })),
        );
        expect(engine.count('hints')).toBe(targets.length * keys.length);
        const listed = hintKeys(engine);
        expect(listed).toEqual(utf8Sorted(stored));
        expect([...stored].sort(compareStorageKeys)).toEqual(listed);

        // One run per target, the targets in code point order, each run in key order.
        const runs: { target: string; keys: string[] }[] = [];
        for (const storedKey of listed) {
          const { target, key } = parseHintKey(storedKey);
          if (runs[runs.length - 1]?.target !== target) runs.push({ target, keys: [] });
          runs[runs.length - 1]!.keys.push(key);
        }
        expect(runs.map((run) => run.target)).toEqual(utf8Sorted(targets));
        for (const run of runs) expect(run.keys).toEqual(utf8Sorted(keys));

        // A target's hints are one page from `${target}\u0000` (how handoff reads them).
        for (const target of targets) {
          const page = keysOf(engine, {
            ns: 'hints',
            startKey: hintKey(target, ''),
            limit: keys.length,
          });
          expect(page.map((key) => parseHintKey(key))).toEqual(
            utf8Sorted(keys).map((key) => ({ target, key })),
          );
        }
      });

      it('round-trips rid, and a sibling written without one has none', async () => {
        const engine = await open();
        const withRid: Sibling = { dot: ['n1', 1], past: [], value: bytes(1), rid: 'req-1' };
        const without: Sibling = { dot: ['n2', 2], past: [['n1', 1]], value: bytes(2) };
        const tombstone: Sibling = { dot: ['n3', 3], past: [], value: null, rid: 'req-ü-😀' };
        const emptyRid: Sibling = { dot: ['n4', 4], past: [], value: new Uint8Array(0), rid: '' };
        const stored: KeyRecord = { siblings: [withRid, without, tombstone, emptyRid] };
        await engine.write([
          { ns: 'data', key: 'k', record: stored },
          { ns: 'hints', key: hintKey(nodeId('n9'), 'k'), record: stored },
        ]);
        const reads = [
          engine.get('k'),
          engine.get(hintKey(nodeId('n9'), 'k'), 'hints'),
          [...engine.entries()][0]?.[1],
          [...engine.entries({ ns: 'hints' })][0]?.[1],
        ];
        for (const read of reads) {
          expectSameRecord(read, stored);
          expect(read!.siblings.map((got) => got.rid)).toEqual([
            'req-1',
            undefined,
            'req-ü-😀',
            '',
          ]);
          expect(read!.siblings[1]!.rid).toBeUndefined();
        }
      });

      it('round-trips expiresAtMs, and a sibling written without one (as before expiry existed) has none', async () => {
        const engine = await open();
        const expiring: Sibling = {
          dot: ['n1', 1],
          past: [],
          value: bytes(1),
          expiresAtMs: 1_700_000_000_123,
        };
        const expired: Sibling = {
          dot: ['n2', 2],
          past: [],
          value: null,
          rid: 'r',
          expiresAtMs: 5,
        };
        const plain: Sibling = { dot: ['n3', 3], past: [['n1', 1]], value: bytes(3) };
        const stored: KeyRecord = { siblings: [expiring, expired, plain] };
        await engine.write([
          { ns: 'data', key: 'k', record: stored },
          { ns: 'hints', key: hintKey(nodeId('n9'), 'k'), record: stored },
        ]);
        for (const read of [
          engine.get('k'),
          engine.get(hintKey(nodeId('n9'), 'k'), 'hints'),
          [...engine.entries()][0]?.[1],
        ]) {
          expectSameRecord(read, stored);
          expect(read!.siblings.map((got) => got.expiresAtMs)).toEqual([
            1_700_000_000_123,
            5,
            undefined,
          ]);
          expect('expiresAtMs' in read!.siblings[2]!).toBe(false);
        }
      });

      it('rejects an unknown namespace', async () => {
        const engine = await open();
        const bad = 'nope' as Namespace;
        expect(() => engine.get('k', bad)).toThrow(StorageError);
        expect(() => engine.count(bad)).toThrow(StorageError);
        expect(() => keysOf(engine, { ns: bad })).toThrow(StorageError);
        expect(() => keysOf(engine, { ns: 'meta' as Namespace })).toThrow(StorageError);
        await expect(
          engine.write([{ ns: bad, key: 'k', record: record(bytes(1)) }]),
        ).rejects.toBeInstanceOf(StorageError);
      });
    });

    describe('mixed batches', () => {
      it('applies data, hint and meta writes atomically and in batch order', async () => {
        const engine = await open();
        await engine.putMeta('gone', 'before');
        await engine.write([{ ns: 'hints', key: 'removed', record: record(bytes(0)) }]);
        await engine.write([
          { ns: 'data', key: 'k', record: record(bytes(1)) },
          { ns: 'hints', key: 'k', record: record(bytes(2)) },
          { ns: 'meta', name: 'm', value: 1 },
          { ns: 'data', key: 'k', record: record(bytes(3)) },
          { ns: 'meta', name: 'm', value: { step: 2 } },
          { ns: 'hints', key: 'k', record: null },
          { ns: 'hints', key: 'h', record: record(bytes(4)) },
          { ns: 'meta', name: 'gone', value: undefined },
          { ns: 'meta', name: 'k', value: 'a meta name may equal a key' },
          { ns: 'hints', key: 'removed', record: null },
          { ns: 'hints', key: 'removed', record: record(bytes(5)) },
          { ns: 'meta', name: 'removed-last', value: 1 },
          { ns: 'meta', name: 'removed-last', value: undefined },
        ]);
        // Visible as soon as write resolved.
        expectSameRecord(engine.get('k'), record(bytes(3)));
        expect(engine.get('k', 'hints')).toBeUndefined();
        expectSameRecord(engine.get('h', 'hints'), record(bytes(4)));
        expectSameRecord(engine.get('removed', 'hints'), record(bytes(5)));
        expect(engine.getMeta('m')).toEqual({ step: 2 });
        expect(engine.getMeta('gone')).toBeUndefined();
        expect(engine.getMeta('k')).toBe('a meta name may equal a key');
        expect(engine.getMeta('removed-last')).toBeUndefined();
        expect(keysOf(engine)).toEqual(['k']);
        expect(hintKeys(engine)).toEqual(['h', 'removed']);
        expect(engine.count('hints')).toBe(2);
      });

      it('rejects a mixed batch with one bad change and stores none of it', async () => {
        const engine = await open();
        await engine.putMeta('m', 'kept');
        const good: PersistWrite[] = [
          { ns: 'meta', name: 'm', value: 'changed' },
          { ns: 'meta', name: 'new-meta', value: 1 },
          { ns: 'data', key: 'd', record: record(bytes(1)) },
          { ns: 'hints', key: hintKey(nodeId('n1'), 'd'), record: record(bytes(1)) },
        ];
        const badChanges: PersistWrite[] = [
          { ns: 'hints', key: '', record: record(bytes(2)) },
          { ns: 'hints', key: '\uD800', record: record(bytes(2)) },
          { ns: 'meta', name: '', value: 1 },
          { ns: 'meta', name: 'z'.repeat(STORAGE_KEY_BYTES_MAX + 1), value: 1 },
          { ns: 'meta', name: 'unstorable', value: Symbol('not data') },
          { ns: 'other' as Namespace, key: 'x', record: record(bytes(2)) },
        ];
        for (const bad of badChanges) {
          await expect(engine.write([...good, bad])).rejects.toBeInstanceOf(StorageError);
          await expect(engine.write([bad, ...good])).rejects.toBeInstanceOf(StorageError);
        }
        expect(engine.getMeta('m')).toBe('kept');
        expect(engine.getMeta('new-meta')).toBeUndefined();
        expect(engine.count()).toBe(0);
        expect(engine.count('hints')).toBe(0);
        await engine.write(good);
        expect(engine.getMeta('m')).toBe('changed');
        expect(engine.count('hints')).toBe(1);
      });

      it('orders batches and putMeta calls in flight by call order', async () => {
        const engine = await open();
        const calls: Promise<void>[] = [];
        for (let i = 0; i < 50; i++) {
          calls.push(
            engine.write([
              { ns: 'meta', name: 'm', value: i },
              { ns: 'hints', key: 'shared', record: record(bytes(i)) },
              { ns: 'data', key: `key-${i}`, record: record(bytes(i)) },
            ]),
          );
          calls.push(engine.putMeta('other', i));
        }
        calls.push(engine.putMeta('m', 'last'));
        await Promise.all(calls);
        expect(engine.getMeta('m')).toBe('last');
        expect(engine.getMeta('other')).toBe(49);
        expectSameRecord(engine.get('shared', 'hints'), record(bytes(49)));
        expect(engine.count()).toBe(50);
        expect(engine.count('hints')).toBe(1);
      });
    });

    describe('metadata', () => {
      it('round-trips values, overwrites, and removes with undefined', async () => {
        const engine = await open();
        expect(engine.getMeta('epoch')).toBeUndefined();
        const nested = { epoch: 7, actors: ['n1', 'n2'], note: 'ünïcode', flag: true, none: null };
        await engine.putMeta('epoch', 1);
        await engine.putMeta('state', nested);
        expect(engine.getMeta('epoch')).toBe(1);
        expect(engine.getMeta('state')).toEqual(nested);
        await engine.putMeta('epoch', 2 ** 40);
        expect(engine.getMeta('epoch')).toBe(2 ** 40);
        await engine.putMeta('epoch', undefined);
        expect(engine.getMeta('epoch')).toBeUndefined();
      });

      it('keeps metadata apart from keys and from later mutation', async () => {
        const engine = await open();
        const value = { list: [1, 2] };
        await engine.putMeta('shared-name', value);
        value.list.push(3);
        expect(engine.getMeta('shared-name')).toEqual({ list: [1, 2] });
        expect(engine.get('shared-name')).toBeUndefined();
        expect(engine.get('shared-name', 'hints')).toBeUndefined();
        expect(engine.count()).toBe(0);
        expect(engine.count('hints')).toBe(0);
        expect(keysOf(engine)).toEqual([]);
        expect(hintKeys(engine)).toEqual([]);
      });
    });

    // A store that cannot be closed (the simulator's) has no close tests: none run, none skip.
    if (factory.closable ?? true) {
      describe('close', () => {
        it(
          'rejects writes after close, never hanging or throwing synchronously',
          async () => {
            const engine = await open();
            await engine.close();
            const write = engine.write([{ ns: 'data', key: 'k', record: record(bytes(1)) }]);
            const putMeta = engine.putMeta('epoch', 1);
            const mixed = engine.write([
              { ns: 'hints', key: 'k', record: record(bytes(1)) },
              { ns: 'meta', name: 'epoch', value: 1 },
            ]);
            await expect(write).rejects.toBeInstanceOf(StorageClosedError);
            await expect(putMeta).rejects.toBeInstanceOf(StorageClosedError);
            await expect(mixed).rejects.toBeInstanceOf(StorageClosedError);
          },
          SETTLE_TIMEOUT_MS,
        );

        it(
          'throws StorageClosedError from reads after close',
          async () => {
            const engine = await open();
            await engine.write([
              { ns: 'data', key: 'k', record: record(bytes(1)) },
              { ns: 'hints', key: 'k', record: record(bytes(1)) },
            ]);
            const iterator = engine.entries()[Symbol.iterator]();
            expect(iterator.next().done).toBe(false);
            const hintIterator = engine.entries({ ns: 'hints' })[Symbol.iterator]();
            expect(hintIterator.next().done).toBe(false);
            await engine.close();
            expect(() => engine.get('k', 'hints')).toThrow(StorageClosedError);
            expect(() => engine.count('hints')).toThrow(StorageClosedError);
            expect(() => engine.entries({ ns: 'hints' })).toThrow(StorageClosedError);
            expect(() => hintIterator.next()).toThrow(StorageClosedError);
            expect(() => engine.get('k')).toThrow(StorageClosedError);
            expect(() => engine.count()).toThrow(StorageClosedError);
            expect(() => engine.getMeta('epoch')).toThrow(StorageClosedError);
            expect(() => engine.entries()).toThrow(StorageClosedError);
            expect(() => iterator.next()).toThrow(StorageClosedError);
          },
          SETTLE_TIMEOUT_MS,
        );

        it(
          'is idempotent',
          async () => {
            const engine = await open();
            await engine.close();
            await engine.close();
            await Promise.all([engine.close(), engine.close()]);
          },
          SETTLE_TIMEOUT_MS,
        );

        it(
          'lets writes already in flight settle',
          async () => {
            const engine = await open();
            const writes = [
              engine.write([{ ns: 'data', key: 'k', record: record(bytes(1)) }]),
              engine.putMeta('epoch', 3),
            ];
            const closed = engine.close();
            await Promise.all(writes);
            await closed;
          },
          SETTLE_TIMEOUT_MS,
        );
      });
    }

    if (factory.reopen !== undefined) {
      describe('durability', () => {
        it('keeps data and metadata across close and reopen', async () => {
          const engine = await open();
          expect(engine.durable).toBe(true);
          const large = new Uint8Array(64 * 1024).fill(42);
          await engine.write([
            { ns: 'data', key: 'kept', record: record(bytes(1), null, new Uint8Array(0)) },
            { ns: 'data', key: 'large', record: record(large) },
            { ns: 'data', key: 'removed', record: record(bytes(2)) },
          ]);
          await engine.write([{ ns: 'data', key: 'removed', record: null }]);
          await engine.putMeta('epoch', 5);
          const pending = engine.write([
            { ns: 'data', key: 'in-flight', record: record(bytes(3)) },
          ]);
          await engine.close();
          await pending;

          const again = await reopen();
          expectSameRecord(again.get('kept'), record(bytes(1), null, new Uint8Array(0)));
          expectSameRecord(again.get('large'), record(large));
          expectSameRecord(again.get('in-flight'), record(bytes(3)));
          expect(again.get('removed')).toBeUndefined();
          expect(again.getMeta('epoch')).toBe(5);
          expect(keysOf(again)).toEqual(['in-flight', 'kept', 'large']);
          expect(again.count()).toBe(3);
        });

        it('keeps hints, rids and meta written in a batch across close and reopen', async () => {
          const engine = await open();
          const target = nodeId('n2');
          const withRid: KeyRecord = {
            siblings: [
              { dot: ['n1', 1], past: [], value: bytes(1), rid: 'req-1' },
              { dot: ['n2', 1], past: [], value: null },
            ],
          };
          await engine.write([
            { ns: 'data', key: 'k', record: withRid },
            { ns: 'hints', key: hintKey(target, 'k'), record: record(bytes(2)) },
            { ns: 'hints', key: hintKey(target, 'removed'), record: record(bytes(3)) },
            { ns: 'meta', name: 'counterReserved', value: 10_000 },
            { ns: 'meta', name: 'gone', value: 1 },
          ]);
          const pending = engine.write([
            { ns: 'hints', key: hintKey(target, 'removed'), record: null },
            { ns: 'hints', key: hintKey(nodeId('n1'), 'k'), record: withRid },
            { ns: 'meta', name: 'counterReserved', value: 20_000 },
            { ns: 'meta', name: 'gone', value: undefined },
          ]);
          await engine.close();
          await pending;

          const again = await reopen();
          expectSameRecord(again.get('k'), withRid);
          expect(again.get('k')!.siblings[1]!.rid).toBeUndefined();
          expectSameRecord(again.get(hintKey(target, 'k'), 'hints'), record(bytes(2)));
          expectSameRecord(again.get(hintKey(nodeId('n1'), 'k'), 'hints'), withRid);
          expect(again.get(hintKey(target, 'removed'), 'hints')).toBeUndefined();
          expect(again.get('k', 'hints')).toBeUndefined();
          expect(again.getMeta('counterReserved')).toBe(20_000);
          expect(again.getMeta('gone')).toBeUndefined();
          expect(keysOf(again)).toEqual(['k']);
          expect(hintKeys(again)).toEqual([hintKey(nodeId('n1'), 'k'), hintKey(target, 'k')]);
          expect(again.count('hints')).toBe(2);
        });
      });
    }
  });
}
