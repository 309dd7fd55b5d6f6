/**
 * Storage engines (src/storage): a synchronous get that hits, one single-record write awaited
 * (for lmdb and the log engine: durable, fdatasync included), one awaited 100-record batch, and
 * 64 single-record writes issued in one turn and awaited together (the log engine's group
 * commit: one append and one fdatasync for all of them), on MemoryStorage, LmdbStorage and
 * LogStorage (the default). Every engine is preloaded with PRELOAD_KEYS records of one sibling
 * holding a 1 KiB value; writes overwrite those keys in rotation.
 *
 * lmdb and the log engine live in fresh temporary directories (under --dir, else the OS temp
 * dir), removed when the group ends, and also on exit or Ctrl-C if the run stops early.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KeyRecord, PersistWrite } from '../../src/core/types.js';
import type { StorageEngine } from '../../src/storage/engine.js';
import { LmdbStorage } from '../../src/storage/lmdb.js';
import { LogStorage } from '../../src/storage/log.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { recordWithSiblings, userKeys } from './data.js';
import { consume, type MicroGroup, type MicroTask } from './harness.js';

const PRELOAD_KEYS = 10_000;
const PRELOAD_BATCH = 1_000;
const RECORD_VARIANTS = 16;
const BATCH_RECORDS = 100;
/** Single-record writes issued together in one turn by the group-commit task. */
const TURN_WRITES = 64;

/** Where the lmdb temp directory is created; set by run.ts from --dir. */
let parentDir = os.tmpdir();
export function setStorageDir(dir: string): void {
  parentDir = dir;
}

/** Linux statfs magic numbers worth naming: they decide what an fdatasync costs. */
const FS_TYPES = new Map<number, string>([
  [0xef53, 'ext4'],
  [0x01021994, 'tmpfs (fdatasync is free: not durable)'],
  [0x794c7630, 'overlayfs'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x2fc12fc1, 'zfs'],
]);

function filesystemOf(dir: string): string {
  try {
    const type = fs.statfsSync(dir).type;
    return FS_TYPES.get(type) ?? `statfs type 0x${type.toString(16)}`;
  } catch {
    return 'unknown filesystem';
  }
}

interface Fixture {
  readonly keys: readonly string[];
  readonly records: readonly KeyRecord[];
  /** Ready-made 100-record batches covering all keys, used in rotation. */
  readonly batches: readonly (readonly PersistWrite[])[];
}

function fixture(): Fixture {
  const keys = userKeys(PRELOAD_KEYS, 1234);
  const records = Array.from({ length: RECORD_VARIANTS }, (_, i) => recordWithSiblings(1, 100 + i));
  const batches: PersistWrite[][] = [];
  for (let start = 0; start < keys.length; start += BATCH_RECORDS) {
    batches.push(
      keys.slice(start, start + BATCH_RECORDS).map((key, i) => ({
        ns: 'data',
        key,
        record: records[(start + i) % RECORD_VARIANTS]!,
      })),
    );
  }
  return { keys, records, batches };
}

async function preload(engine: StorageEngine, data: Fixture): Promise<void> {
  for (let start = 0; start < data.keys.length; start += PRELOAD_BATCH) {
    const batch: PersistWrite[] = data.keys
      .slice(start, start + PRELOAD_BATCH)
      .map((key, i) => ({ ns: 'data', key, record: data.records[(start + i) % RECORD_VARIANTS]! }));
    await engine.write(batch);
  }
  if (engine.count() !== data.keys.length) throw new Error(`${engine.kind}: preload incomplete`);
}

/**
 * The three tasks for one engine. A sample does `getsPerSample` gets, or awaits
 * `writesPerSample` single writes / `batchesPerSample` batches one after the other (1 for
 * lmdb, where each is a durable commit of its own).
 */
function engineTasks(
  label: string,
  engine: StorageEngine,
  data: Fixture,
  getsPerSample: number,
  writesPerSample: number,
  batchesPerSample: number,
): MicroTask[] {
  const { keys, records, batches } = data;
  let nextGet = 0; // rotating positions, so successive samples touch different records
  let next = 0;
  let nextBatch = 0;
  return [
    {
      name: `${label} get (hit)`,
      opsPerSample: getsPerSample,
      fn: () => {
        let acc = 0;
        nextGet = (nextGet + getsPerSample) % keys.length;
        const base = nextGet;
        for (let i = 0; i < getsPerSample; i++) {
          const record = engine.get(keys[(base + i) % keys.length]!);
          if (record !== undefined) acc += record.siblings.length;
        }
        if (acc !== getsPerSample) throw new Error(`${label}: get missed`);
        consume(acc);
      },
    },
    {
      name: `${label} write 1 record (awaited)`,
      opsPerSample: writesPerSample,
      async: true,
      fn: async () => {
        for (let i = 0; i < writesPerSample; i++) {
          next = (next + 1) % keys.length;
          await engine.write([
            { ns: 'data', key: keys[next]!, record: records[next % RECORD_VARIANTS]! },
          ]);
        }
        consume(next);
      },
    },
    {
      name: `${label} ${TURN_WRITES} single writes in one turn (awaited together)`,
      opsPerSample: TURN_WRITES,
      async: true,
      fn: async () => {
        const writes: Promise<void>[] = [];
        for (let i = 0; i < TURN_WRITES; i++) {
          next = (next + 1) % keys.length;
          const record = records[next % RECORD_VARIANTS]!;
          writes.push(engine.write([{ ns: 'data', key: keys[next]!, record }]));
        }
        await Promise.all(writes);
        consume(next);
      },
    },
    {
      name: `${label} write 100-record batch (awaited)`,
      opsPerSample: batchesPerSample,
      async: true,
      fn: async () => {
        for (let i = 0; i < batchesPerSample; i++) {
          nextBatch = (nextBatch + 1) % batches.length;
          await engine.write(batches[nextBatch]!);
        }
        consume(nextBatch);
      },
    },
  ];
}

export const storageGroup: MicroGroup = {
  name: 'storage',
  title: `MemoryStorage, LmdbStorage and LogStorage, ${PRELOAD_KEYS} keys of one 1 KiB sibling`,
  async setup() {
    const data = fixture();
    const memory = new MemoryStorage();
    await preload(memory, data);

    const dir = fs.mkdtempSync(path.join(parentDir, 'ringkv-micro-'));
    const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
    const onSigint = (): void => {
      removeDir();
      process.exit(130);
    };
    process.on('exit', removeDir);
    process.on('SIGINT', onSigint);
    let lmdb: LmdbStorage;
    let log: LogStorage;
    try {
      lmdb = await LmdbStorage.open({ path: path.join(dir, 'lmdb') });
      await preload(lmdb, data);
      log = await LogStorage.open({ path: path.join(dir, 'log') });
      await preload(log, data);
    } catch (error) {
      removeDir();
      throw error;
    }
    return {
      tasks: [
        ...engineTasks('memory', memory, data, 1024, 64, 16),
        ...engineTasks('lmdb', lmdb, data, 64, 1, 1),
        ...engineTasks('log', log, data, 1024, 1, 1),
      ],
      notes: [
        'an lmdb get decodes the msgpack record and copies the value out (a fresh KeyRecord); ' +
          'a memory get returns the stored object',
        `lmdb and log directories on ${filesystemOf(dir)} (${parentDir}); each awaited lmdb ` +
          'write is one transaction committed with fdatasync (overlappingSync: false)',
        'for the batch rows one op = one 100-record batch: multiply ops/s by 100 for records/s',
        'the log engine holds its records in memory (a get is a memory get) and makes each ' +
          'turn of writes durable with one append and one fdatasync: its awaited single write ' +
          'is a round of its own, the one-turn row shares one round among 64',
      ],
      teardown: async () => {
        await Promise.all([memory.close(), lmdb.close(), log.close()]);
        removeDir();
        process.off('exit', removeDir);
        process.off('SIGINT', onSigint);
      },
    };
  },
};
