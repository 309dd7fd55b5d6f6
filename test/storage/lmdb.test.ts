import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LmdbStorage, openStorage, StorageError } from '../../src/storage/index.js';
import { runStorageContract } from './contract.js';

function temporaryDirectory(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-lmdb-'));
}

let directory: string | null = null;

runStorageContract('lmdb', {
  open: async () => {
    directory = temporaryDirectory();
    return LmdbStorage.open({ path: directory });
  },
  reopen: async () => LmdbStorage.open({ path: directory! }),
  cleanup: () => {
    if (directory !== null) fs.rmSync(directory, { recursive: true, force: true });
    directory = null;
  },
});

describe('LmdbStorage specifics', () => {
  let storage: LmdbStorage | null = null;
  afterEach(async () => {
    await storage?.close();
    if (directory !== null) fs.rmSync(directory, { recursive: true, force: true });
    directory = null;
  });

  it('hands out plain Uint8Array values, not Node Buffers', async () => {
    directory = temporaryDirectory();
    storage = await LmdbStorage.open({ path: directory });
    const value = new Uint8Array([1, 2, 3]);
    await storage.write([
      { ns: 'data', key: 'k', record: { siblings: [{ dot: ['n1', 1], past: [], value }] } },
    ]);
    for (const read of [storage.get('k'), [...storage.entries()][0]?.[1]]) {
      const got = read?.siblings[0]?.value;
      expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
      expect(got).toStrictEqual(value);
    }
  });
});

describe('openStorage with a data directory', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = temporaryDirectory();
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens a durable lmdb engine in a directory per node', async () => {
    const engine = await openStorage({ dataDir, nodeId: 'n1.2' });
    expect(engine.kind).toBe('lmdb');
    expect(engine.durable).toBe(true);
    await engine.putMeta('epoch', 2);
    await engine.close();
    expect(fs.statSync(path.join(dataDir, 'n1.2')).isDirectory()).toBe(true);
  });

  it('refuses a node id that would leave the data directory', async () => {
    for (const nodeId of ['../n1', 'a/b', '..', '']) {
      await expect(openStorage({ dataDir, nodeId })).rejects.toBeInstanceOf(StorageError);
    }
  });
});
