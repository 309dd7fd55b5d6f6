/**
 * The StorageEngine acceptance suite (automerge-repo's `runStorageAdapterTests` shape): every
 * engine runs exactly these tests, so engines are interchangeable under the protocol core.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyRecord, Sibling } from '../../src/core/types.js';
import {
  compareStorageKeys,
  STORAGE_KEY_BYTES_MAX,
  StorageClosedError,
  type StorageEngine,
  StorageError,
} from '../../src/storage/engine.js';

export interface StorageContractFactory {
  /** A fresh, empty engine for the current test (for lmdb: in a new directory). */
  open(): Promise<StorageEngine>;
  /** Given for durable engines: opens the location of the last `open()` again. */
  reopen?(): Promise<StorageEngine>;
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

function keysOf(engine: StorageEngine, options?: { startKey?: string; limit?: number }): string[] {
  return [...engine.entries(options)].map(([key]) => key);
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
    const opened: StorageEngine[] = [];
    const open = async (): Promise<StorageEngine> => {
      const engine = await factory.open();
      opened.push(engine);
      return engine;
    };
    const reopen = async (): Promise<StorageEngine> => {
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
          { key: 'siblings', record: siblings },
          { key: 'tombstone', record: tombstone },
          { key: 'no-siblings', record: { siblings: [] } },
        ]);
        expectSameRecord(engine.get('siblings'), siblings);
        expectSameRecord(engine.get('tombstone'), tombstone);
        expect(engine.get('no-siblings')).toEqual({ siblings: [] });
      });

      it('round-trips a 1 MiB value', async () => {
        const engine = await open();
        const large = new Uint8Array(1024 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
        await engine.write([{ key: 'large', record: record(large) }]);
        expectSameRecord(engine.get('large'), record(large));
      });

      it('stores unicode keys and the longest allowed key distinctly', async () => {
        const engine = await open();
        const keys = ['é', 'e\u0301', '日本語', '😀', '\uFFFD', 'a\u0000b', 'ä'.repeat(989)];
        expect(Buffer.byteLength(keys[6]!)).toBe(STORAGE_KEY_BYTES_MAX);
        await engine.write(keys.map((key, i) => ({ key, record: record(bytes(i)) })));
        for (const [i, key] of keys.entries()) expectSameRecord(engine.get(key), record(bytes(i)));
        expect(engine.count()).toBe(keys.length);
      });

      it('overwrites a key with the newer record', async () => {
        const engine = await open();
        await engine.write([{ key: 'k', record: record(bytes(1)) }]);
        await engine.write([{ key: 'k', record: record(bytes(2), bytes(3)) }]);
        expectSameRecord(engine.get('k'), record(bytes(2), bytes(3)));
        expect(engine.count()).toBe(1);
      });

      it('removes a key when the record is null, and ignores removing a missing key', async () => {
        const engine = await open();
        await engine.write([{ key: 'k', record: record(bytes(1)) }]);
        await engine.write([
          { key: 'k', record: null },
          { key: 'never-written', record: null },
        ]);
        expect(engine.get('k')).toBeUndefined();
        expect(engine.count()).toBe(0);
        expect(keysOf(engine)).toEqual([]);
      });
    });

    describe('batches', () => {
      it('lets the last change to a key in a batch win', async () => {
        const engine = await open();
        await engine.write([{ key: 'removed-last', record: record(bytes(0)) }]);
        await engine.write([
          { key: 'put-twice', record: record(bytes(1)) },
          { key: 'put-twice', record: record(bytes(2)) },
          { key: 'removed-last', record: record(bytes(3)) },
          { key: 'removed-last', record: null },
          { key: 'put-after-remove', record: null },
          { key: 'put-after-remove', record: record(bytes(4)) },
        ]);
        expectSameRecord(engine.get('put-twice'), record(bytes(2)));
        expect(engine.get('removed-last')).toBeUndefined();
        expectSameRecord(engine.get('put-after-remove'), record(bytes(4)));
        expect(engine.count()).toBe(2);
      });

      it('rejects a batch with an invalid key and stores none of it', async () => {
        const engine = await open();
        await engine.write([{ key: 'kept', record: record(bytes(1)) }]);
        for (const badKey of ['', '\uDC00x', 'y'.repeat(STORAGE_KEY_BYTES_MAX + 1)]) {
          const batch = [
            { key: 'kept', record: null },
            { key: 'new', record: record(bytes(2)) },
            { key: badKey, record: record(bytes(3)) },
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
              { key: `key-${i}`, record: record(bytes(i)) },
              { key: 'shared', record: record(bytes(i)) },
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
        const pending = engine.write([{ key: 'k', record: record(bytes(1)) }]);
        const seen = engine.get('k'); // either state is allowed before the write resolved
        expect(seen === undefined || seen.siblings.length === 1).toBe(true);
        await pending;
        expectSameRecord(engine.get('k'), record(bytes(1)));
      });
    });

    describe('entries and count', () => {
      const unordered = ['b', 'a', 'ab', '\uE000', '😀', 'é', 'A', 'Z', '\uFFFF', 'aa', '0', '~'];

      async function filled(): Promise<StorageEngine> {
        const engine = await open();
        await engine.write(unordered.map((key) => ({ key, record: record(bytes(key.length)) })));
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
          { key: 'a', record: null },
          { key: 'new', record: record(null) },
          { key: 'b', record: record(bytes(9)) },
        ]);
        const expected = utf8Sorted([...unordered.filter((key) => key !== 'a'), 'new']);
        expect(keysOf(engine)).toEqual(expected);
        expect(engine.count()).toBe(expected.length);
        await engine.write([{ key: 'a', record: record(bytes(1)) }]);
        expect(keysOf(engine)).toEqual(utf8Sorted([...expected, 'a']));
      });

      it('matches a reference map over a seeded mix of puts and removes', async () => {
        const engine = await open();
        const reference = new Map<string, number>();
        const random = seededRandom(0x5eed);
        const keyPool = ['k', 'k1', 'k10', 'k2', 'ü', '😀', '\uE000', 'z', 'a b', 'A'];
        for (let round = 0; round < 40; round++) {
          const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
            const key = keyPool[Math.floor(random() * keyPool.length)]!;
            const value = random() < 0.35 ? null : Math.floor(random() * 256);
            if (value === null) reference.delete(key);
            else reference.set(key, value);
            return { key, record: value === null ? null : record(bytes(value)) };
          });
          await engine.write(batch);
          const expected = utf8Sorted([...reference.keys()]);
          expect(keysOf(engine)).toEqual(expected);
          expect(engine.count()).toBe(expected.length);
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
        await engine.write([{ key: 'after', record: record(bytes(1)) }]);
        expect(engine.count()).toBe(unordered.length + 1);
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
        expect(engine.count()).toBe(0);
        expect(keysOf(engine)).toEqual([]);
      });
    });

    describe('close', () => {
      it(
        'rejects writes after close, never hanging or throwing synchronously',
        async () => {
          const engine = await open();
          await engine.close();
          const write = engine.write([{ key: 'k', record: record(bytes(1)) }]);
          const putMeta = engine.putMeta('epoch', 1);
          await expect(write).rejects.toBeInstanceOf(StorageClosedError);
          await expect(putMeta).rejects.toBeInstanceOf(StorageClosedError);
        },
        SETTLE_TIMEOUT_MS,
      );

      it(
        'throws StorageClosedError from reads after close',
        async () => {
          const engine = await open();
          await engine.write([{ key: 'k', record: record(bytes(1)) }]);
          const iterator = engine.entries()[Symbol.iterator]();
          expect(iterator.next().done).toBe(false);
          await engine.close();
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
            engine.write([{ key: 'k', record: record(bytes(1)) }]),
            engine.putMeta('epoch', 3),
          ];
          const closed = engine.close();
          await Promise.all(writes);
          await closed;
        },
        SETTLE_TIMEOUT_MS,
      );
    });

    if (factory.reopen !== undefined) {
      describe('durability', () => {
        it('keeps data and metadata across close and reopen', async () => {
          const engine = await open();
          expect(engine.durable).toBe(true);
          const large = new Uint8Array(64 * 1024).fill(42);
          await engine.write([
            { key: 'kept', record: record(bytes(1), null, new Uint8Array(0)) },
            { key: 'large', record: record(large) },
            { key: 'removed', record: record(bytes(2)) },
          ]);
          await engine.write([{ key: 'removed', record: null }]);
          await engine.putMeta('epoch', 5);
          const pending = engine.write([{ key: 'in-flight', record: record(bytes(3)) }]);
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
      });
    }
  });
}
