/**
 * Durable nodes, on each durable engine: acknowledged data survives a full cluster restart and a
 * node kill.
 */
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCluster } from '../../src/index.js';

describe.each(['log', 'lmdb'] as const)('a durable cluster (%s)', (storageEngine) => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('finds every acknowledged write again after close and restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ringkv-durable-'));
    dirs.push(dataDir);
    const keys = Array.from({ length: 500 }, (_, i) => `durable-${i}`);
    const first = await startCluster({ nodes: 5, dataDir, storageEngine });
    await Promise.all(keys.map((k) => first.put(k, `value of ${k}`)));
    expect((await first.status()).config).toMatchObject({ durable: true, engine: storageEngine });
    // The engines held are read from disk once, not on every status call.
    const listings = vi.spyOn(fs, 'readdirSync');
    try {
      await first.status();
      await first.status();
      const underDataDir = listings.mock.calls.filter(([dir]) => String(dir).startsWith(dataDir));
      expect(underDataDir).toEqual([]);
    } finally {
      listings.mockRestore();
    }
    await first.close();

    const second = await startCluster({ nodes: 5, dataDir, storageEngine });
    try {
      const results = await Promise.all(keys.map((k) => second.get(k)));
      expect(results.map((result) => result.strings())).toEqual(keys.map((k) => [`value of ${k}`]));
      const stored = (await second.status()).nodes.reduce((sum, n) => sum + (n.keys ?? 0), 0);
      expect(stored).toBe(keys.length * 3); // every key on its three replicas
    } finally {
      await second.close();
    }
  });

  it('one data directory, one cluster: a second start is refused until the first closes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ringkv-lock-'));
    dirs.push(dataDir);
    const first = await startCluster({ nodes: 1, n: 1, r: 1, w: 1, dataDir, storageEngine });
    try {
      await expect(
        startCluster({ nodes: 1, n: 1, r: 1, w: 1, dataDir, storageEngine }),
      ).rejects.toThrow(/is in use by process/);
    } finally {
      await first.close();
    }
    const again = await startCluster({ nodes: 1, n: 1, r: 1, w: 1, dataDir, storageEngine });
    await again.close();
  });

  it('a killed durable node keeps its data and its actor across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ringkv-durable-'));
    dirs.push(dataDir);
    const db = await startCluster({ nodes: 3, n: 3, r: 3, w: 3, dataDir, storageEngine });
    try {
      await db.put('k', 'before');
      await db.killNode('n1');
      await db.restartNode('n1');
      const got = await db.get('k', { r: 3 });
      expect(got.strings()).toEqual(['before']);
      await db.put('k', 'after', { context: got.context });
      expect((await db.get('k', { r: 3 })).strings()).toEqual(['after']);
    } finally {
      await db.close();
    }
  });
});
