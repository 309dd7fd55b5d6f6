import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engineHeldIn, openStorage, StorageError } from '../../src/storage/index.js';

describe('openStorage with a data directory', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-open-'));
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function writeAndClose(engine?: 'log' | 'lmdb'): Promise<string> {
    const storage = await openStorage({ dataDir, nodeId: 'n1.2', ...(engine ? { engine } : {}) });
    await storage.putMeta('epoch', 2);
    await storage.close();
    return storage.kind;
  }

  it('opens a durable log engine in a directory per node by default', async () => {
    const storage = await openStorage({ dataDir, nodeId: 'n1.2' });
    expect(storage.kind).toBe('log');
    expect(storage.durable).toBe(true);
    await storage.putMeta('epoch', 2);
    await storage.close();
    expect(fs.statSync(path.join(dataDir, 'n1.2')).isDirectory()).toBe(true);
    expect(engineHeldIn(path.join(dataDir, 'n1.2'))).toBe('log');
  });

  it('opens lmdb when asked for it', async () => {
    expect(await writeAndClose('lmdb')).toBe('lmdb');
    expect(engineHeldIn(path.join(dataDir, 'n1.2'))).toBe('lmdb');
  });

  it('keeps the engine a node directory already holds, whatever is asked', async () => {
    await writeAndClose('lmdb');
    const lmdb = await openStorage({ dataDir, nodeId: 'n1.2', engine: 'log' });
    expect(lmdb.kind).toBe('lmdb');
    expect(lmdb.getMeta('epoch')).toBe(2);
    await lmdb.close();

    fs.rmSync(path.join(dataDir, 'n1.2'), { recursive: true });
    await writeAndClose('log');
    const log = await openStorage({ dataDir, nodeId: 'n1.2', engine: 'lmdb' });
    expect(log.kind).toBe('log');
    expect(log.getMeta('epoch')).toBe(2);
    await log.close();
  });

  it('knows no engine in a missing or empty directory', () => {
    expect(engineHeldIn(path.join(dataDir, 'missing'))).toBeNull();
    expect(engineHeldIn(dataDir)).toBeNull();
  });

  it('refuses a node id that would leave the data directory', async () => {
    for (const nodeId of ['../n1', 'a/b', '..', '']) {
      await expect(openStorage({ dataDir, nodeId })).rejects.toBeInstanceOf(StorageError);
    }
  });
});
