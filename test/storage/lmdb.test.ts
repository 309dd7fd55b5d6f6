import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LmdbStorage } from '../../src/storage/index.js';
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
