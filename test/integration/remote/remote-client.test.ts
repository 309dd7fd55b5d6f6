/**
 * connect() against a real worker-thread cluster behind the real HTTP server (as `ringkv up`
 * wires them): the remote client must behave as the embedded one — contexts, siblings, quorum
 * options, named errors — and fail over, and never hang, when nodes are gone.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cluster,
  connect,
  QuorumError,
  type RemoteClient,
  startCluster,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../../../src/index.js';
import { createHttpServer } from '../../../src/server/http.js';

async function serve(db: Cluster): Promise<{ server: Server; url: string; requests: string[] }> {
  const server = createHttpServer(db, { bodySizeMaxBytes: 64 * 1024, requestTimeoutMs: 5000 });
  const requests: string[] = [];
  server.on('request', (req) => requests.push(`${req.method} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** A port nothing listens on (bound, then released). */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

function stop(server: Server): Promise<unknown> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
}

describe('connect(): the remote client over HTTP', () => {
  let db: Cluster;
  let live: { server: Server; url: string; requests: string[] };
  let remote: RemoteClient;

  beforeAll(async () => {
    db = await startCluster({
      nodes: 3,
      n: 3,
      r: 2,
      w: 2,
      requestTimeoutMs: 1500,
      valueSizeMaxBytes: 32 * 1024,
    });
    live = await serve(db);
    remote = await connect({ nodes: [live.url] });
  });

  afterAll(async () => {
    await remote?.close();
    if (live) await stop(live.server);
    await db?.close();
  });

  it('puts, gets, overwrites with the context, deletes, and reads the tombstone', async () => {
    const put = await remote.put('user:1', 'ada');
    expect(put).toMatchObject({ acked: expect.any(Number), w: 2, sloppy: false, siblings: 1 });
    expect(put.acked).toBeGreaterThanOrEqual(2);
    const first = await remote.get('user:1');
    expect(first.found).toBe(true);
    expect(first.strings()).toEqual(['ada']);
    expect(first.context).not.toBe('');

    await remote.put('user:1', JSON.stringify({ name: 'Ada Lovelace' }), {
      context: first.context,
    });
    const second = await remote.get('user:1', { r: 3 });
    expect(second.json()).toEqual([{ name: 'Ada Lovelace' }]);
    expect(second.r).toBe(3);

    const deleted = await remote.delete('user:1', { context: second.context, w: 3 });
    expect(deleted.w).toBe(3);
    const gone = await remote.get('user:1', { r: 3 });
    expect(gone.found).toBe(false);
    expect(gone.values).toEqual([]);
    expect(gone.context).not.toBe(''); // a write over the tombstone supersedes it
  });

  it('returns both blind writes as siblings, and the context resolves them', async () => {
    await remote.put('cart', 'apples', { w: 3 });
    await remote.put('cart', 'pears', { w: 3 });
    const both = await remote.get('cart', { r: 3 });
    expect(both.strings().sort()).toEqual(['apples', 'pears']);
    expect(both.siblings).toBe(2);
    await remote.put('cart', 'apples+pears', { context: both.context, w: 3 });
    expect((await remote.get('cart', { r: 3 })).strings()).toEqual(['apples+pears']);
  });

  it("sends supersede: 'local' as X-Ringkv-Supersede: a blind put then replaces, no sibling", async () => {
    await remote.put('menu', 'soup', { w: 3 });
    await remote.put('menu', 'salad', { w: 3 });
    expect((await remote.get('menu', { r: 3 })).siblings).toBe(2);
    const put = await remote.put('menu', 'stew', { w: 3, supersede: 'local' });
    expect(put.siblings).toBe(1);
    const after = await remote.get('menu', { r: 3 });
    expect(after.strings()).toEqual(['stew']);
    const before = live.requests.length;
    const wrong = { supersede: 'global' } as unknown as { supersede: 'local' };
    await expect(remote.put('menu', 'x', wrong)).rejects.toThrow(/supersede must be 'local'/);
    await expect(remote.delete('menu', { supersede: 'local' })).rejects.toThrow(/put only/);
    expect(live.requests.length).toBe(before);
  });

  it('round-trips keys a URL would normalise, and bytes', async () => {
    for (const key of ['..', '.', 'a/b', 'sp ace?#%', 'ключ']) {
      await remote.put(key, `v:${key}`);
      expect((await remote.get(key)).strings()).toEqual([`v:${key}`]);
    }
    const bytes = new Uint8Array([0, 255, 1, 254]);
    await remote.put('bin', bytes);
    expect([...(await remote.get('bin')).values[0]!]).toEqual([...bytes]);
  });

  it('stores the bytes put() was given, even when the caller reuses its buffer at once', async () => {
    const buffer = Buffer.from('first');
    const puts = [remote.put('reused-1', buffer)];
    buffer.write('later');
    puts.push(remote.put('reused-2', buffer));
    await Promise.all(puts);
    expect((await remote.get('reused-1')).strings()).toEqual(['first']);
    expect((await remote.get('reused-2')).strings()).toEqual(['later']);
  });

  it('says found=false for a key never written', async () => {
    const missing = await remote.get('never-written');
    expect(missing).toMatchObject({ found: false, values: [], context: '' });
  });

  it('rejects bad input with ValidationError before sending anything', async () => {
    const before = live.requests.length;
    await expect(remote.put('k', 'v', { w: 4 })).rejects.toThrow(ValidationError);
    await expect(remote.get('k', { r: 0 })).rejects.toThrow(/between 1 and n=3/);
    await expect(remote.get('k', { r: 2, pr: 3 })).rejects.toThrow(ValidationError);
    await expect(remote.put('', 'v')).rejects.toThrow(ValidationError);
    await expect(remote.put('k', 'v', { context: 'not a context' })).rejects.toThrow(
      ValidationError,
    );
    const big = remote.put('k', new Uint8Array(32 * 1024 + 1));
    await expect(big).rejects.toMatchObject({ name: 'ValidationError', tooLarge: true });
    expect(live.requests.length).toBe(before);
  });

  it('maps a failed quorum to QuorumError with needed and acked, and does not hang', async () => {
    await db.killNode('n3');
    try {
      const startMs = performance.now();
      const error = await remote.put('q', 'v', { w: 3, timeoutMs: 600 }).catch((e) => e);
      expect(error).toBeInstanceOf(QuorumError);
      // The coordinator may fail fast (it knows n3 is down: acked 0) or after asking (acked 2).
      expect(error.needed).toBe(3);
      expect([0, 1, 2]).toContain(error.acked);
      expect(error.message).toMatch(/quorum not met/);
      expect(performance.now() - startMs).toBeLessThan(600 + 1500);
      // w=2 and r=2 are still met with one node of three down.
      await remote.put('q', 'v2', { w: 2 });
      expect((await remote.get('q', { r: 2 })).strings()).toContain('v2');
    } finally {
      await db.restartNode('n3');
    }
  });

  it('reports the cluster status', async () => {
    const status = await remote.status();
    expect(status.nodes.map((node) => node.id)).toEqual(['n1', 'n2', 'n3']);
    expect(status.config).toMatchObject({ n: 3, r: 2, w: 2 });
  });

  it('fails over from a dead node to a live one', async () => {
    const client = await connect({ nodes: [await deadUrl(), live.url] });
    try {
      for (let i = 0; i < 6; i++) {
        await client.put(`fo:${i}`, String(i));
        expect((await client.get(`fo:${i}`)).strings()).toEqual([String(i)]);
      }
    } finally {
      await client.close();
    }
  });

  it('refuses to connect when no node answers, within its bound', async () => {
    const startMs = performance.now();
    const error = await connect({ nodes: [await deadUrl(), await deadUrl()] }).catch((e) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.message).toMatch(/no ringkv node answered \/health/);
    expect(performance.now() - startMs).toBeLessThan(3000);
  });

  it('settles within the deadline when every node has gone since connecting', async () => {
    const other = await serve(db);
    const client = await connect({ nodes: [other.url], timeoutMs: 1000 });
    await stop(other.server);
    try {
      const startMs = performance.now();
      const error = await client.get('k').catch((e) => e);
      expect(error instanceof UnavailableError || error instanceof TimeoutError).toBe(true);
      expect(performance.now() - startMs).toBeLessThan(1000 + 1500);
      const write = await client.put('k', 'v').catch((e) => e);
      expect(write).toBeInstanceOf(UnavailableError);
    } finally {
      await client.close();
    }
  });

  it('fails every call after close() with UnavailableError, and close ends calls in flight', async () => {
    const client = await connect({ nodes: [live.url] });
    await db.setNetwork({ delayMs: 300 });
    try {
      const pending = client.put('slow', 'v').catch((e) => e);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.close();
      expect(await pending).toBeInstanceOf(UnavailableError);
    } finally {
      await db.setNetwork({ delayMs: 0 });
    }
    await expect(client.get('k')).rejects.toThrow(UnavailableError);
    await expect(client.status()).rejects.toThrow(UnavailableError);
  });

  it('checks its options', async () => {
    await expect(connect({ nodes: [] })).rejects.toThrow(ValidationError);
    await expect(connect({ nodes: ['ftp://x'] })).rejects.toThrow(/http: or https:/);
    await expect(connect({ nodes: ['http://u:p@127.0.0.1:1'] })).rejects.toThrow(/credentials/);
    await expect(connect({ nodes: [live.url], token: 'a b' })).rejects.toThrow(/token/);
    await expect(connect({ nodes: [live.url], timeoutMs: 0 })).rejects.toThrow(ValidationError);
  });
});
