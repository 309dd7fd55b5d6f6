/**
 * A durable cluster whose membership changed, restarted as a whole: it starts the nodes it has
 * now (the joiner, not the node that left), routes by its committed ring, and every key reads
 * back. The node list lives in `${dataDir}/membership.json`; the ring in each node's storage.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster, ValidationError } from '../../../src/index.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'ringkv-membership-'));
const config = {
  nodes: 4,
  n: 3,
  partitionCount: 64,
  tickIntervalMs: 100,
  dataDir,
  membershipChangeTimeoutMs: 30_000,
};
let db: Cluster | null = null;

afterAll(async () => {
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('membership of a durable cluster across a full restart', () => {
  it('restarts with the nodes and ring it had, and keeps every key', async () => {
    db = await startCluster(config);
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((key) => db!.put(key, `v-${key}`)));
    await db.addNode();
    await db.removeNode('n2');
    const before = await db.status();
    await db.close();
    db = null;
    const stored = JSON.parse(readFileSync(path.join(dataDir, 'membership.json'), 'utf8'));
    expect(stored).toEqual({
      initial: ['n1', 'n2', 'n3', 'n4'],
      nodes: ['n1', 'n3', 'n4', 'n5'],
      removed: ['n2'],
    });

    db = await startCluster(config);
    const after = await db.status();
    expect(after.nodes.map((n) => [n.id, n.state, n.membership])).toEqual(
      ['n1', 'n3', 'n4', 'n5'].map((id) => [id, 'up', 'member']),
    );
    expect(after.ring.version).toBe(before.ring.version);
    expect(after.ring.owners).toEqual(before.ring.owners);
    for (const key of keys) {
      const got = await db.get(key, { r: 3 });
      expect(
        got.values.map((v) => Buffer.from(v).toString()),
        key,
      ).toEqual([`v-${key}`]);
    }
    // An id that left stays retired; the next fresh id follows every id ever used.
    await expect(db.addNode({ id: 'n2' })).rejects.toBeInstanceOf(ValidationError);
  });
});
