/**
 * Hinted handoff on real worker threads: a replica's worker is terminated, writes meant for it
 * land on stand-ins as hints (sloppy), the worker is restarted, and the hints reach it — after
 * which every replica of every key holds the same versions and no hint is left.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import { type Cluster, type ReplicaView, startCluster } from '../../src/index.js';

let db: Cluster;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ringkv-handoff-'));
  db = await startCluster({ nodes: 5, n: 3, r: 2, w: 3, dataDir, tickIntervalMs: 50 });
});

afterAll(async () => {
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Waits (bounded) until `check` holds, polling the cluster; the bound is generous on purpose. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

function dotsOf(view: ReplicaView): string {
  return JSON.stringify(view.versions?.map((v) => v.dot) ?? null);
}

it('replica down -> hints on stand-ins -> replica back -> hints delivered -> replicas equal', async () => {
  const ring = Ring.fromOwners((await db.status()).ring.owners.map(nodeId));
  const keys = Array.from({ length: 400 }, (_, i) => `handoff-${i}`)
    .filter((k) => ring.preferenceList(k, 3).includes(nodeId('n3')))
    .slice(0, 30);
  expect(keys.length).toBe(30);

  await db.killNode('n3');
  const results = await Promise.all(keys.map((k) => db.put(k, `value-${k}`)));
  expect(results.every((r) => r.sloppy && r.acked === 3)).toBe(true);
  const whileDown = await db.status();
  expect(whileDown.nodes.reduce((sum, n) => sum + (n.hintsPending ?? 0), 0)).toBe(keys.length);

  await db.restartNode('n3');
  await eventually(async () => {
    const status = await db.status();
    return status.nodes.every((n) => n.state === 'up' && n.hintsPending === 0);
  }, 'every hint is delivered');

  for (const key of keys) {
    const views = (await db.inspect(key)).filter((v) => v.primary);
    expect(views.map((v) => v.node)).toContain('n3');
    expect(new Set(views.map(dotsOf)).size).toBe(1); // identical on all three replicas
    expect(views[0]!.versions).toHaveLength(1);
  }
  const read = await db.get(keys[0]!, { r: 3, pr: 3 });
  expect(read.strings()).toEqual([`value-${keys[0]}`]);
  expect(read.sloppy).toBe(false);
});
