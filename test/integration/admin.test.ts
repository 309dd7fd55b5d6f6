/**
 * The HTTP admin routes on a real worker-thread cluster: a partition cuts a key's replicas apart
 * (a W=3 PW=3 put fails with 503) and heals (the put then succeeds); network settings show in
 * /status; kill and restart through HTTP change node state; a node is added and removed.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import { type Cluster, type ClusterStatus, startCluster } from '../../src/index.js';
import { createHttpServer } from '../../src/server/http.js';

let db: Cluster;
let server: Server;
let base = '';

beforeAll(async () => {
  db = await startCluster({
    nodes: 5,
    n: 3,
    requestTimeoutMs: 300,
    retryAttemptsMax: 1,
    tickIntervalMs: 50,
  });
  server = createHttpServer(db, {
    bodySizeMaxBytes: 1024 * 1024,
    requestTimeoutMs: 5000,
    admin: db,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await db?.close();
});

const post = (path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function status(): Promise<ClusterStatus> {
  return (await (await fetch(`${base}/status`)).json()) as ClusterStatus;
}

/** Polls `check` until it holds, for at most 10 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('admin routes on a real cluster', () => {
  it('a partition isolates a node: W=3 PW=3 fails with 503 until heal', async () => {
    const ring = Ring.fromOwners((await status()).ring.owners.map(nodeId));
    // A key n1 replicates: its other replicas are on the other side of the partition.
    const key = Array.from({ length: 200 }, (_, i) => `split-${i}`).find((k) =>
      ring.preferenceList(k, 3).includes(nodeId('n1')),
    )!;
    const cut = await post('/admin/partition', { groups: [['n1'], ['n2', 'n3', 'n4', 'n5']] });
    expect(cut.status).toBe(200);
    expect(await cut.json()).toMatchObject({
      network: { groups: [['n1'], ['n2', 'n3', 'n4', 'n5']] },
    });
    expect((await status()).nodes.map((n) => n.partitionGroup)).toEqual([0, 1, 1, 1, 1]);

    const failed = await fetch(`${base}/kv/${key}?w=3&pw=3`, { method: 'PUT', body: 'v' });
    expect(failed.status).toBe(503);
    expect(await failed.json()).toMatchObject({ code: 'QUORUM', needed: 3 });

    const healed = await post('/admin/heal');
    expect(healed.status).toBe(200);
    expect(((await healed.json()) as ClusterStatus).network.groups).toBeNull();
    expect((await status()).nodes.every((n) => n.partitionGroup === null)).toBe(true);
    await eventually(async () => {
      const res = await fetch(`${base}/kv/${key}?w=3&pw=3`, { method: 'PUT', body: 'v' });
      return res.status === 200;
    }, 'the W=3 PW=3 put succeeds after heal');
  });

  it('network loss and delay settings show in /status', async () => {
    const res = await post('/admin/network', { delay_ms: 5, jitter_ms: 1, loss: 0.01 });
    expect(res.status).toBe(200);
    expect((await status()).network).toEqual({
      delayMs: 5,
      jitterMs: 1,
      lossRate: 0.01,
      groups: null,
    });
    expect((await post('/admin/network', { loss: 2 })).status).toBe(400);
    expect((await post('/admin/network', { delay_ms: 60_001 })).status).toBe(400);
    await post('/admin/network', { delay_ms: 0, jitter_ms: 0, loss: 0 });
    expect((await status()).network).toMatchObject({ delayMs: 0, jitterMs: 0, lossRate: 0 });
  });

  it('kill and restart a node through HTTP', async () => {
    const killed = await post('/admin/nodes/n4/kill');
    expect(killed.status).toBe(200);
    expect((await status()).nodes.find((n) => n.id === 'n4')?.state).toBe('down');
    const restarted = await post('/admin/nodes/n4/restart');
    expect(restarted.status).toBe(200);
    expect((await status()).nodes.find((n) => n.id === 'n4')?.state).toBe('up');
    expect((await post('/admin/nodes/n9/kill')).status).toBe(404);
    expect((await post('/admin/partition', { groups: [['n1'], ['n9']] })).status).toBe(400);
    expect((await post('/admin/nodes', { id: 'n1' })).status).toBe(400);
    expect((await fetch(`${base}/admin/nodes/n9`, { method: 'DELETE' })).status).toBe(404);
  });

  it('add a node, then remove it, through HTTP', async () => {
    await fetch(`${base}/kv/before-join`, { method: 'PUT', body: 'v' });
    const added = await post('/admin/nodes');
    expect(added.status).toBe(201);
    expect(await added.json()).toMatchObject({ id: 'n6', kind: 'join' });
    const joined = await status();
    expect(joined.nodes.map((n) => [n.id, n.membership])).toContainEqual(['n6', 'member']);
    expect(joined.ring.owners).toContain('n6');
    expect(await (await fetch(`${base}/kv/before-join?r=3`)).text()).toBe('v');

    const removed = await fetch(`${base}/admin/nodes/n6`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ id: 'n6', kind: 'leave' });
    const left = await status();
    expect(left.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(left.ring.owners).not.toContain('n6');
    expect(await (await fetch(`${base}/kv/before-join?r=3`)).text()).toBe('v');
  });
});
