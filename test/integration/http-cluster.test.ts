/**
 * The HTTP API in front of a real worker-thread cluster (the server's own tests use a fake
 * client; these prove the wiring end to end, including a 503 from real dead replicas).
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import { type Cluster, startCluster } from '../../src/index.js';
import { createHttpServer } from '../../src/server/http.js';
import { listen } from './server/monitor-fakes.js';

describe('HTTP API on a real cluster', () => {
  let db: Cluster;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    db = await startCluster({ nodes: 5, n: 3, r: 2, w: 2, requestTimeoutMs: 800 });
    server = createHttpServer(db, { bodySizeMaxBytes: 1024 * 1024, requestTimeoutMs: 5000 });
    base = await listen(server);
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await db?.close();
  });

  it('a PUT sent again with its Idempotency-Key is the same write: one value, the same answer', async () => {
    const send = (body: string, key: string) =>
      fetch(`${base}/kv/order%2F17`, {
        method: 'PUT',
        body,
        headers: { 'Idempotency-Key': key },
      }).then(async (res) => ({ status: res.status, body: await res.json() }));
    const first = await send('paid', 'pay-17');
    const again = await send('paid', 'pay-17');
    expect(first.status).toBe(200);
    expect(again).toEqual(first);
    const read = await fetch(`${base}/kv/order%2F17?r=3`);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('paid');
    // A fresh key is a fresh write: a blind one, so a sibling.
    expect((await send('paid', 'pay-18')).body).toMatchObject({ siblings: 2 });
    expect((await fetch(`${base}/kv/order%2F17?r=3`)).status).toBe(300);
  });

  it('PUT, GET (200, then 300 with siblings), PUT with context, DELETE, 404', async () => {
    const put = await fetch(`${base}/kv/user%2F1`, { method: 'PUT', body: 'ada' });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ acked: 2, w: 2 });

    const one = await fetch(`${base}/kv/user%2F1`);
    expect(one.status).toBe(200);
    expect(await one.text()).toBe('ada');

    await fetch(`${base}/kv/user%2F1`, { method: 'PUT', body: 'grace' });
    const two = await fetch(`${base}/kv/user%2F1?r=3`);
    expect(two.status).toBe(300);
    const body = (await two.json()) as { siblings: { value: string }[] };
    const values = body.siblings.map((s) => Buffer.from(s.value, 'base64').toString()).sort();
    expect(values).toEqual(['ada', 'grace']);
    const context = two.headers.get('x-ringkv-context')!;

    const resolved = await fetch(`${base}/kv/user%2F1?w=3`, {
      method: 'PUT',
      body: 'ada+grace',
      headers: { 'X-Ringkv-Context': context },
    });
    expect(resolved.status).toBe(200);
    const after = await fetch(`${base}/kv/user%2F1?r=3`);
    expect(await after.text()).toBe('ada+grace');

    const del = await fetch(`${base}/kv/user%2F1`, {
      method: 'DELETE',
      headers: { 'X-Ringkv-Context': after.headers.get('x-ringkv-context')! },
    });
    expect(del.status).toBe(200);
    const gone = await fetch(`${base}/kv/user%2F1`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('x-ringkv-context')).toBeTruthy();
  });

  it('PUT with supersede=local (parameter or header) replaces instead of adding a sibling', async () => {
    // w=3: every replica holds each write, so whichever one coordinates the next holds it too.
    const put = (key: string, value: string, query = '', headers: Record<string, string> = {}) =>
      fetch(`${base}/kv/${key}?w=3${query}`, { method: 'PUT', body: value, headers });
    const read = (key: string) => fetch(`${base}/kv/${key}?r=3`);

    expect((await put('blind', 'one')).status).toBe(200);
    expect((await put('blind', 'two')).status).toBe(200);
    const siblings = await read('blind');
    expect(siblings.status).toBe(300);
    expect(((await siblings.json()) as { siblings: unknown[] }).siblings).toHaveLength(2);

    expect((await put('local', 'one', '&supersede=local')).status).toBe(200);
    const second = await put('local', 'two', '&supersede=local');
    expect(await second.json()).toMatchObject({ siblings: 1 });
    const one = await read('local');
    expect(one.status).toBe(200);
    expect(await one.text()).toBe('two');

    // Over the two siblings of a blind pair too, by the header this time.
    const header = { 'X-Ringkv-Supersede': 'local' };
    expect((await put('blind', 'three', '', header)).status).toBe(200);
    const resolved = await read('blind');
    expect(resolved.status).toBe(200);
    expect(await resolved.text()).toBe('three');

    const bad = await put('local', 'x', '&supersede=everywhere');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'VALIDATION' });
    expect(await (await read('local')).text()).toBe('two');
  });

  it('answers bad input with 400 and 413 and keeps serving', async () => {
    expect((await fetch(`${base}/kv/k?r=9`)).status).toBe(400);
    expect(
      (
        await fetch(`${base}/kv/k`, {
          method: 'PUT',
          body: 'x',
          headers: { 'X-Ringkv-Context': '!!' },
        })
      ).status,
    ).toBe(400);
    const big = new Uint8Array(1024 * 1024 + 1);
    expect((await fetch(`${base}/kv/k`, { method: 'PUT', body: big })).status).toBe(413);
    expect((await fetch(`${base}/status`)).status).toBe(200);
  });

  it('GET /status lists the nodes and the ring', async () => {
    const status = (await (await fetch(`${base}/status`)).json()) as {
      nodes: { id: string; state: string }[];
      ring: { partitionCount: number };
    };
    expect(status.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(status.ring.partitionCount).toBe(1024);
  });

  it('with replicas dead: 200 sloppy for W=3, 503 with needed/acked for PW=3', async () => {
    const owners = (await db.status()).ring.owners;
    const ring = Ring.fromOwners(owners.map(nodeId));
    const key = Array.from({ length: 200 }, (_, i) => `dead-${i}`).find((k) => {
      const prefs = ring.preferenceList(k, 3);
      return prefs.includes(nodeId('n3')) && prefs.includes(nodeId('n5'));
    })!;
    await db.killNode('n3');
    await db.killNode('n5');
    const sloppy = await fetch(`${base}/kv/${key}?w=3`, { method: 'PUT', body: 'v' });
    expect(sloppy.status).toBe(200);
    expect(await sloppy.json()).toMatchObject({ acked: 3, sloppy: true });
    const res = await fetch(`${base}/kv/${key}?w=3&pw=3`, { method: 'PUT', body: 'v' });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'QUORUM', needed: 3 });
    await db.restartNode('n3');
    await db.restartNode('n5');
  });
});
