import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KeyRecord } from '../../src/core/types.js';
import { StorageError } from '../../src/storage/index.js';
import { LogStorage, type LogStorageOptions } from '../../src/storage/log.js';
import { frameHeader } from '../../src/storage/log-frame.js';
import { recordBytes } from '../../src/storage/memory.js';
import { runStorageContract } from './contract.js';

function temporaryDirectory(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-log-'));
}

let directory: string | null = null;

function contractFactory(options: Omit<LogStorageOptions, 'path'>) {
  return {
    open: async () => {
      directory = temporaryDirectory();
      return LogStorage.open({ path: directory, ...options });
    },
    reopen: async () => LogStorage.open({ path: directory!, ...options }),
    cleanup: () => {
      if (directory !== null) fs.rmSync(directory, { recursive: true, force: true });
      directory = null;
    },
  };
}

runStorageContract('log', contractFactory({}));
// The same suite with a compaction after every sync: snapshots under every contract test.
runStorageContract(
  'log, compacting all the time',
  contractFactory({ compactMinBytes: 0, compactRatio: 0 }),
);

function value(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function record(text: string, counter = 1): KeyRecord {
  return { siblings: [{ dot: ['n1', counter], past: [], value: value(text) }] };
}

function text(storage: LogStorage, key: string): string | undefined {
  const got = storage.get(key)?.siblings[0]?.value;
  return got === undefined || got === null ? undefined : new TextDecoder().decode(got);
}

function files(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** Bytes of the logs and snapshots in `dir` (a snapshot still being written, .tmp, is not one). */
function engineFileBytes(dir: string): number {
  return files(dir)
    .filter((name) => /^(log|snapshot)-\d+$/.test(name))
    .reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

describe('LogStorage specifics', () => {
  const opened: LogStorage[] = [];
  let dir: string;
  const open = async (options: Omit<LogStorageOptions, 'path'> = {}) => {
    const storage = await LogStorage.open({ path: dir, ...options });
    opened.push(storage);
    return storage;
  };

  /** A fresh directory whose log holds one batch per key (`a` → one, `b` → two), closed. */
  const closedLogOf = async (...keys: ('a' | 'b')[]): Promise<string> => {
    dir = temporaryDirectory();
    const storage = await open();
    for (const key of keys) {
      await storage.write([{ ns: 'data', key, record: record(key === 'a' ? 'one' : 'two') }]);
    }
    await storage.close();
    return path.join(dir, 'log-00000001');
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((storage) => storage.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('groups the batches of one turn into one append', async () => {
    dir = temporaryDirectory();
    const storage = await open();
    const before = fs.statSync(path.join(dir, 'log-00000001')).size;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        storage.write([{ ns: 'data', key: `k${i}`, record: record(`v${i}`) }]),
      ),
    );
    expect(fs.statSync(path.join(dir, 'log-00000001')).size).toBeGreaterThan(before);
    await storage.close();
    const again = await open();
    for (let i = 0; i < 20; i++) expect(text(again, `k${i}`)).toBe(`v${i}`);
  });

  it('counts its syncs, the bytes it appended and its compactions', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 2048 });
    expect(storage.stats()).toEqual({
      syncs: 0,
      bytesAppended: 0,
      compactions: 0,
      compactionFailures: 0,
      fileBytes: 0,
    });
    await Promise.all([
      storage.write([{ ns: 'data', key: 'a', record: record('one') }]),
      storage.write([{ ns: 'data', key: 'b', record: record('two') }]),
    ]);
    const log = path.join(dir, 'log-00000001');
    expect(storage.stats()).toEqual({
      syncs: 1, // one turn, one sync
      bytesAppended: fs.statSync(log).size,
      compactions: 0,
      compactionFailures: 0,
      fileBytes: fs.statSync(log).size,
    });
    for (let i = 0; i < 20; i++) {
      await storage.write([{ ns: 'data', key: `k${i % 2}`, record: record('x'.repeat(200)) }]);
    }
    await expect.poll(() => storage.stats().compactions).toBeGreaterThan(0);
    // Once the compaction has removed what it replaced: the snapshot and the logs after it.
    await expect.poll(() => storage.stats().fileBytes - engineFileBytes(dir)).toBe(0);
  });

  it('leaves logs of new keys alone and compacts once rewrites have left garbage', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 2048 });
    // Every byte appended is live: a compaction would rewrite it all and free nothing.
    for (let i = 0; i < 100; i++) {
      await storage.write([{ ns: 'data', key: `new${i}`, record: record('x'.repeat(200)) }]);
    }
    expect(storage.stats().bytesAppended).toBeGreaterThan(10 * 2048);
    expect(storage.stats().compactions).toBe(0);
    // Rewrites of one key: once the logs hold twice the records' bytes, they are compacted.
    let rewrites = 0;
    while (storage.stats().compactions === 0 && rewrites < 1000) {
      await storage.write([{ ns: 'data', key: 'new0', record: record(`y${rewrites++}`) }]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(storage.stats().compactions).toBe(1);
    expect(storage.stats().bytesAppended).toBeGreaterThanOrEqual(2 * storage.bytes());
    await expect.poll(() => storage.stats().fileBytes - engineFileBytes(dir)).toBe(0);
    expect(storage.stats().fileBytes).toBeLessThan(storage.stats().bytesAppended / 2);
  });

  it("compacts one engine of a thread at a time; closing does not wait for another's turn", async () => {
    const dirs = [temporaryDirectory(), temporaryDirectory(), temporaryDirectory()];
    const engines = await Promise.all(
      dirs.map((where) => LogStorage.open({ path: where, compactMinBytes: 2048, compactRatio: 0 })),
    );
    opened.push(...engines);
    dir = dirs[0]!;
    // The first snapshot to start waits until the test lets it go on.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const events: string[] = [];
    const realOpen = fs.promises.open.bind(fs.promises);
    const realRename = fs.promises.rename.bind(fs.promises);
    const opening = vi.spyOn(fs.promises, 'open').mockImplementation(async (file, ...rest) => {
      if (String(file).endsWith('.tmp')) {
        events.push(`start ${dirs.indexOf(path.dirname(String(file)))}`);
        if (events.length === 1) await held;
      }
      return realOpen(file, ...rest);
    });
    const renaming = vi.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
      events.push(`end ${dirs.indexOf(path.dirname(String(from)))}`);
      return realRename(from, to);
    });
    try {
      // All three past the threshold in one turn: three compactions due at once.
      await Promise.all(
        engines.map((engine) =>
          engine.write([{ ns: 'data', key: 'k', record: record('x'.repeat(4096)) }]),
        ),
      );
      await expect.poll(() => events.length).toBe(1);
      const first = Number(events[0]!.split(' ')[1]);
      // The others wait for their turn; one of them closes meanwhile, at once.
      const closing = engines.find((_, i) => i !== first)!;
      await closing.close();
      expect(events).toHaveLength(1);
      release();
      await expect.poll(() => events.length).toBe(4);
      const last = engines.findIndex((engine, i) => i !== first && engine !== closing);
      expect(events).toEqual([`start ${first}`, `end ${first}`, `start ${last}`, `end ${last}`]);
      expect(closing.stats().compactions).toBe(0);
    } finally {
      opening.mockRestore();
      renaming.mockRestore();
      release();
      for (const where of dirs.slice(1)) fs.rmSync(where, { recursive: true, force: true });
    }
  });

  it('counts the bytes of the records it holds, the same again after a reopen', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 2048 });
    for (let i = 0; i < 30; i++) {
      await storage.write([{ ns: 'data', key: `k${i % 9}`, record: record('v'.repeat(100 + i)) }]);
    }
    await storage.write([{ ns: 'data', key: 'k0', record: null }]);
    const held = storage.bytes();
    let expected = 0;
    for (const [key, stored] of storage.entries({ ns: 'data' }))
      expected += recordBytes(key, stored);
    expect(held).toBe(expected);
    await storage.close();
    const again = await open();
    expect(again.bytes()).toBe(held); // replayed from the snapshot and the logs after it
  });

  it('cuts a torn frame off the end of the newest log and keeps every whole batch', async () => {
    const log = await closedLogOf('a', 'b');
    const whole = fs.statSync(log).size;
    // A crash in the middle of an append: a header announcing more bytes than arrived.
    const payload = Buffer.from('a batch that never fully reached the disk');
    fs.appendFileSync(log, Buffer.concat([frameHeader(payload), payload.subarray(0, 10)]));

    const again = await open();
    expect(text(again, 'a')).toBe('one');
    expect(text(again, 'b')).toBe('two');
    expect(fs.statSync(log).size).toBe(whole);
    await again.write([{ ns: 'data', key: 'c', record: record('three') }]);
    await again.close();
    const third = await open();
    expect(text(third, 'c')).toBe('three');
  });

  it('stops at a frame whose checksum does not match', async () => {
    const log = await closedLogOf('a', 'b');
    const bytes = fs.readFileSync(log);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1); // batch `b`
    fs.writeFileSync(log, bytes);

    const again = await open();
    expect(text(again, 'a')).toBe('one');
    expect(again.get('b')).toBeUndefined();
  });

  it('refuses to open when damage is not at the end of the newest log', async () => {
    const log = await closedLogOf('a');
    fs.appendFileSync(log, Buffer.from('garbage!garbage!'));
    fs.writeFileSync(path.join(dir, 'log-00000002'), Buffer.alloc(0));
    await expect(LogStorage.open({ path: dir })).rejects.toThrow(/log-00000001 is damaged/);
    await expect(LogStorage.open({ path: dir })).rejects.toBeInstanceOf(StorageError);
  });

  it('compacts into a snapshot, deletes the older files and reopens the same state', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 4096 });
    for (let round = 0; round < 40; round++) {
      await storage.write([
        { ns: 'data', key: `k${round % 5}`, record: record(`v${round}`.repeat(20), round + 1) },
        { ns: 'hints', key: `h${round % 3}`, record: record(`h${round}`) },
        { ns: 'meta', name: 'epoch', value: { round } },
      ]);
    }
    await expect
      .poll(() => files(dir).filter((name) => name.startsWith('snapshot-')))
      .toHaveLength(1);
    await storage.close();
    expect(files(dir).filter((name) => name.startsWith('log-')).length).toBeLessThanOrEqual(2);
    expect(files(dir).some((name) => name.endsWith('.tmp'))).toBe(false);

    const again = await open();
    for (let key = 0; key < 5; key++) {
      const last = 35 + key;
      expect(text(again, `k${key}`)).toBe(`v${last}`.repeat(20));
    }
    expect(again.count('hints')).toBe(3);
    expect(again.getMeta('epoch')).toEqual({ round: 39 });
  });

  it('keeps every write made while a compaction runs', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 0, compactRatio: 0 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      writes.push(storage.write([{ ns: 'data', key: `k${i % 300}`, record: record(`v${i}`) }]));
      if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writes);
    await storage.close();
    const again = await open();
    expect(again.count()).toBe(300);
    for (let key = 0; key < 300; key++) {
      const last = key + 300 * Math.floor((1999 - key) / 300); // the last i with i % 300 = key
      expect(text(again, `k${key}`)).toBe(`v${last}`);
    }
  });

  it('compacts under steady load, while the appends never stop', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 4096 });
    const snapshots = () => files(dir).filter((name) => name.startsWith('snapshot-')).length;
    const writes: Promise<void>[] = [];
    let compactedWhileWriting = false;
    // A write every event-loop turn, never waiting for one: a round never ends with nobody
    // waiting, so the flush loop does not run dry until the writer stops.
    for (let i = 0; i < 3000 && !compactedWhileWriting; i++) {
      writes.push(
        storage.write([{ ns: 'data', key: `k${i % 50}`, record: record(`v${i}`.repeat(30)) }]),
      );
      await new Promise((resolve) => setImmediate(resolve));
      compactedWhileWriting = snapshots() > 0;
    }
    await Promise.all(writes);
    expect(compactedWhileWriting).toBe(true);
  });

  it('goes on after a compaction fails, says why, keeps every write, and compacts again later', async () => {
    dir = temporaryDirectory();
    const told: unknown[] = [];
    const storage = await open({
      compactMinBytes: 2048,
      onCompactionFailed: (error) => told.push(error),
    });
    const realOpen = fs.promises.open.bind(fs.promises);
    let refused = 0;
    const failing = vi.spyOn(fs.promises, 'open').mockImplementation(async (file, ...rest) => {
      if (String(file).endsWith('.tmp') && refused === 0) {
        refused++;
        throw Object.assign(new Error('too many open files'), { code: 'EMFILE' });
      }
      return realOpen(file, ...rest);
    });
    try {
      let i = 0;
      const writeNext = () =>
        storage.write([{ ns: 'data', key: `k${i % 7}`, record: record(`v${i++}`.repeat(40)) }]);
      while (told.length === 0) await writeNext();
      // The logs the failed compaction switched away from are still what a restart replays.
      await new Promise((resolve) => setImmediate(resolve));
      expect(storage.stats().fileBytes).toBe(engineFileBytes(dir));
      while (i < 60) await writeNext();
      await expect.poll(() => storage.stats().compactions).toBeGreaterThan(0);
    } finally {
      failing.mockRestore();
    }
    expect(refused).toBe(1);
    expect(storage.stats().compactionFailures).toBe(1);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ code: 'EMFILE' });
    // After close, which waits for a compaction still running: a later one may have a .tmp open.
    await storage.close();
    expect(files(dir).some((name) => name.endsWith('.tmp'))).toBe(false);
    const again = await open();
    for (let key = 0; key < 7; key++) {
      const last = key + 7 * Math.floor((59 - key) / 7);
      expect(text(again, `k${key}`)).toBe(`v${last}`.repeat(40));
    }
  });

  it('writes and compacts large values in bounded chunks, and reads them all back', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 32 * 1024 * 1024, compactRatio: 0 });
    const big = (i: number) => ({
      siblings: [
        {
          dot: ['n1', i + 1] as [string, number],
          past: [],
          value: new Uint8Array(1 << 20).fill(i),
        },
      ],
    });
    // 40 MiB in one turn: written in chunks of about 16 MiB, made durable by one sync.
    const writes = vi.spyOn(fs, 'writevSync');
    try {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          storage.write([{ ns: 'data', key: `big${i}`, record: big(i) }]),
        ),
      );
      expect(writes.mock.calls.length).toBe(3);
      for (const call of writes.mock.calls) {
        const buffers = call[1] as readonly Buffer[];
        const bytes = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
        expect(bytes).toBeLessThan(18 * 1024 * 1024);
      }
    } finally {
      writes.mockRestore();
    }
    expect(storage.stats().syncs).toBe(1);
    expect(storage.stats().bytesAppended).toBe(fs.statSync(path.join(dir, 'log-00000001')).size);
    // Past the threshold: the snapshot holds 40 MiB, in frames of about 16 MiB.
    await storage.write([{ ns: 'data', key: 'small', record: record('s') }]);
    await expect.poll(() => storage.stats().compactions, { timeout: 10_000 }).toBe(1);
    await storage.close();
    const again = await open();
    for (let i = 0; i < 40; i++) {
      const value = again.get(`big${i}`)?.siblings[0]?.value;
      expect(value?.byteLength).toBe(1 << 20);
      expect(value?.[12345]).toBe(i);
    }
    expect(text(again, 'small')).toBe('s');
  });

  it('ignores a snapshot that a crash left half written', async () => {
    await closedLogOf('a');
    fs.writeFileSync(path.join(dir, 'snapshot-00000002.tmp'), Buffer.from('half a snapshot'));
    const again = await open();
    expect(text(again, 'a')).toBe('one');
    expect(files(dir)).toEqual(['log-00000001']);
  });

  it('refuses a damaged snapshot instead of opening with data missing', async () => {
    dir = temporaryDirectory();
    const storage = await open({ compactMinBytes: 0, compactRatio: 0 });
    await storage.write([{ ns: 'data', key: 'a', record: record('one') }]);
    await expect
      .poll(() => files(dir).filter((name) => name.startsWith('snapshot-')))
      .toHaveLength(1);
    await storage.close();
    const snapshot = files(dir).find((name) => name.startsWith('snapshot-'))!;
    fs.appendFileSync(path.join(dir, snapshot), Buffer.from('xx'));
    await expect(LogStorage.open({ path: dir })).rejects.toThrow(/is damaged/);
  });

  it('finishes a short write: the rest of the round follows it, and reads back whole', async () => {
    dir = temporaryDirectory();
    const storage = await open();
    const realWritev = fs.writevSync.bind(fs);
    // The kernel takes 3 bytes of the round (a signal, a full pipe of a disk): the rest follows.
    const short = vi
      .spyOn(fs, 'writevSync')
      .mockImplementationOnce((fd, buffers) =>
        realWritev(fd, [(buffers[0] as Buffer).subarray(0, 3)]),
      );
    try {
      await Promise.all([
        storage.write([{ ns: 'data', key: 'a', record: record('one') }]),
        storage.write([{ ns: 'data', key: 'b', record: record('two') }]),
      ]);
      expect(short.mock.calls.length).toBeGreaterThan(1);
    } finally {
      short.mockRestore();
    }
    await storage.close();
    const again = await open();
    expect(text(again, 'a')).toBe('one');
    expect(text(again, 'b')).toBe('two');
  });

  it('fails for good when an append fails: that write and every later one reject, none hangs', async () => {
    dir = temporaryDirectory();
    const storage = await open();
    await storage.write([{ ns: 'data', key: 'a', record: record('one') }]);
    const failing = vi.spyOn(fs, 'writevSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    });
    try {
      const lost = storage.write([{ ns: 'data', key: 'b', record: record('two') }]);
      await expect(lost).rejects.toBeInstanceOf(StorageError);
      await expect(lost).rejects.toThrow(/failed/);
      await expect(
        storage.write([{ ns: 'data', key: 'c', record: record('three') }]),
      ).rejects.toBeInstanceOf(StorageError);
    } finally {
      failing.mockRestore();
    }
    await storage.close();
    const again = await open();
    expect(text(again, 'a')).toBe('one');
    expect(again.get('b')).toBeUndefined();
  });
});
