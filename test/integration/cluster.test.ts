/**
 * The embedded API on real worker threads: 5 nodes, N=3, R=W=2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import {
  type Cluster,
  QuorumError,
  SiblingLimitError,
  StorageFullError,
  startCluster,
  UnavailableError,
  ValidationError,
} from '../../src/index.js';

// Every node on one thread (a 2-core machine's default), a thread each, and a mix: kills and
// restarts of a node must leave the nodes it shares a thread with serving.
describe.each([1, 2, 5])('a 5-node cluster on %i worker thread(s)', (nodeThreads) => {
  let db: Cluster;

  beforeAll(async () => {
    db = await startCluster({ nodes: 5, nodeThreads, n: 3, r: 2, w: 2, requestTimeoutMs: 1000 });
  });

  afterAll(async () => {
    await db?.close();
  });

  it('round-trips put, get and delete', async () => {
    const put = await db.put('greeting', 'hello');
    expect(put.acked).toBeGreaterThanOrEqual(2);
    const got = await db.get('greeting');
    expect(got.found).toBe(true);
    expect(got.strings()).toEqual(['hello']);
    await db.delete('greeting', { context: got.context });
    const gone = await db.get('greeting');
    expect(gone.found).toBe(false);
    expect(gone.values).toEqual([]);
  });

  it("reports the nodes' service time of the requests they answered", async () => {
    const before = db.serviceTime?.();
    expect(before).not.toBeNull();
    for (let i = 0; i < 5; i++) await db.put(`served-${i}`, 'v');
    const after = db.serviceTime?.();
    expect(after!.count - before!.count).toBe(5);
    const meanMs = (after!.sumMs - before!.sumMs) / 5;
    expect(meanMs).toBeGreaterThan(0);
    expect(meanMs).toBeLessThan(1000); // within the request timeout it was answered in
  });

  it('stores bytes exactly, and JSON through strings', async () => {
    const bytes = new Uint8Array(1024).map((_, i) => (i * 7) % 256);
    await db.put('bytes', bytes);
    expect((await db.get('bytes')).values[0]).toEqual(bytes);
    await db.put('doc', JSON.stringify({ a: [1, 2] }));
    expect((await db.get('doc')).json()).toEqual([{ a: [1, 2] }]);
  });

  it('stores the bytes put() was given, even when the caller reuses its buffer at once', async () => {
    // Buffer.from takes small buffers from Node's shared pool: views of a larger ArrayBuffer.
    const buffer = Buffer.from('first');
    const first = db.put('reused-1', buffer);
    buffer.write('later');
    const second = db.put('reused-2', buffer);
    await Promise.all([first, second]);
    expect((await db.get('reused-1')).strings()).toEqual(['first']);
    expect((await db.get('reused-2')).strings()).toEqual(['later']);
    expect(buffer.toString()).toBe('later'); // the caller's buffer is its own still
  });

  it('a missing key is not found and has an empty context', async () => {
    const got = await db.get('never-written');
    expect(got).toMatchObject({ found: false, values: [], context: '' });
  });

  it('two blind puts become siblings; a put with the context resolves them', async () => {
    await db.put('cart', 'apple');
    await db.put('cart', 'pear');
    const both = await db.get('cart', { r: 3 });
    expect(both.strings().sort()).toEqual(['apple', 'pear']);
    await db.put('cart', 'apple+pear', { context: both.context, w: 3 });
    const merged = await db.get('cart', { r: 3 });
    expect(merged.strings()).toEqual(['apple+pear']);
  });

  it('rejects bad input before sending anything', async () => {
    await expect(db.put('', 'x')).rejects.toBeInstanceOf(ValidationError);
    await expect(db.get('k', { r: 4 })).rejects.toBeInstanceOf(ValidationError);
    await expect(db.put('k', 'x', { w: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(db.put('k', 'x', { context: '%%%' })).rejects.toBeInstanceOf(ValidationError);
    await expect(db.put('k', 'x', { w: 2, pw: 3 })).rejects.toBeInstanceOf(ValidationError);
    await expect(db.get('k', { r: 1, pr: -1 })).rejects.toBeInstanceOf(ValidationError);
    const tooBig = new Uint8Array(1024 * 1024 + 1);
    await expect(db.put('k', tooBig)).rejects.toMatchObject({
      name: 'ValidationError',
      tooLarge: true,
    });
    await expect(db.put('k', 42 as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(db.killNode('n9')).rejects.toBeInstanceOf(ValidationError);
  });

  it('honours an AbortSignal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(db.get('k', { signal: controller.signal })).rejects.toThrow('caller gave up');
  });

  it('reports status for every node', async () => {
    const status = await db.status();
    expect(status.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(status.nodes.every((n) => n.state === 'up')).toBe(true);
    expect(status.nodes.reduce((sum, n) => sum + n.partitions, 0)).toBe(status.ring.partitionCount);
    expect(status.config).toMatchObject({ n: 3, r: 2, w: 2, durable: false });
  });

  it('keeps serving with one node down; with two down W=3 is met sloppily, PW=3 fails', async () => {
    const keys = Array.from({ length: 50 }, (_, i) => `survive-${i}`);
    await Promise.all(keys.map((k) => db.put(k, `v-${k}`)));
    await db.killNode('n2');
    for (const k of keys) expect((await db.get(k)).strings()).toContain(`v-${k}`);
    await Promise.all(keys.map((k) => db.put(k, `v2-${k}`)));

    await db.killNode('n4');
    const status = await db.status();
    expect(status.nodes.filter((n) => n.state === 'down').map((n) => n.id)).toEqual(['n2', 'n4']);
    // Some key has both n2 and n4 among its three replicas: W=3 cannot be met there.
    const ring = status.ring.owners;
    const key = keys.find(
      (k) => replicasOf(ring, k).includes('n2') && replicasOf(ring, k).includes('n4'),
    );
    expect(key).toBeDefined();
    // Stand-ins take the two dead replicas' places: W=3 is met, and the result says so.
    expect(await db.put(key!, 'x', { w: 3 })).toMatchObject({ acked: 3, sloppy: true });
    // PW=3 demands the key's own three replicas: two are dead, so it fails, and fast.
    const started = Date.now();
    const error = await db.put(key!, 'y', { w: 3, pw: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QuorumError);
    expect(error).toMatchObject({ needed: 3 });
    expect(Date.now() - started).toBeLessThan(3 * (1000 + 1000)); // within the retry budget
  });

  it('restarts a killed node, which serves again', async () => {
    await db.restartNode('n2');
    await db.restartNode('n4');
    const status = await db.status();
    expect(status.nodes.every((n) => n.state === 'up')).toBe(true);
    await db.put('after-restart', 'ok', { w: 3 });
    expect((await db.get('after-restart', { r: 3 })).strings()).toEqual(['ok']);
  });
});

describe('cluster lifecycle', () => {
  it('fails requests after close with UnavailableError', async () => {
    const db = await startCluster({ nodes: 3, n: 3 });
    await db.close();
    await expect(db.get('k')).rejects.toBeInstanceOf(UnavailableError);
  });

  it('refuses new values past storageBytesMax; reads go on, and deletes make room', async () => {
    // N=3 of 3: every node holds every key. A record of a 1 KiB value counts 1 024 + 96 + its
    // key's length, so a bound of 4 KiB takes four of them and refuses the fifth.
    const db = await startCluster({ nodes: 3, n: 3, storageBytesMax: 4096 });
    try {
      const value = new Uint8Array(1024).fill(1);
      let stored = 0;
      let refused: unknown = null;
      while (refused === null && stored < 10) {
        await db.put(`big-${stored}`, value, { w: 3 }).then(
          () => stored++,
          (error: unknown) => {
            refused = error;
          },
        );
      }
      expect(stored).toBe(4);
      expect(refused).toBeInstanceOf(StorageFullError);
      expect((refused as Error).message).toMatch(
        /over its bound of 4096 \(--storage-max, config storageBytesMax\)/,
      );
      expect((await db.get('big-0', { r: 3 })).found).toBe(true);
      for (let i = 0; i < stored; i++) {
        const { context } = await db.get(`big-${i}`, { r: 3 });
        await db.delete(`big-${i}`, { context, w: 3 });
      }
      expect(await db.put('after-deletes', value, { w: 3 })).toMatchObject({ acked: 3 });
    } finally {
      await db.close();
    }
  });

  it('warns past the soft sibling limit and refuses past the hard one', async () => {
    const db = await startCluster({ nodes: 3, n: 3, siblingsSoftMax: 2, siblingsMax: 3 });
    try {
      expect((await db.put('k', 'a')).warning).toBeUndefined();
      await db.put('k', 'b');
      const third = await db.put('k', 'c');
      expect(third).toMatchObject({ siblings: 3 });
      expect(third.warning).toMatch(/3 siblings/);
      await expect(db.put('k', 'd')).rejects.toBeInstanceOf(SiblingLimitError);
      const all = await db.get('k', { r: 3 });
      expect(all.values).toHaveLength(3);
      expect(await db.put('k', 'abc', { context: all.context })).toMatchObject({ siblings: 1 });
    } finally {
      await db.close();
    }
  });

  it('rejects an invalid configuration before starting anything', async () => {
    await expect(startCluster({ nodes: 3, n: 4 })).rejects.toBeInstanceOf(ValidationError);
    await expect(startCluster({ nodes: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(startCluster({ partitionCount: 1000 })).rejects.toBeInstanceOf(ValidationError);
    await expect(startCluster({ nodes: 3, nodeThreads: 4 })).rejects.toThrow(
      /nodeThreads must be an integer between 0 and 3/,
    );
  });

  it('a request to a coordinator that dies fails fast with TimeoutError', async () => {
    const db = await startCluster({ nodes: 3, n: 3, r: 1, w: 1 });
    try {
      const pending = db.put('k', 'v', { timeoutMs: 5000 });
      const kills = db.nodeIds.map((id) => db.killNode(id));
      const error = await pending.catch((e: unknown) => e);
      await Promise.all(kills);
      // Either the write finished before the kill, or it failed: the coordinator died with the
      // outcome unknown (TimeoutError), or the retry found no node left (UnavailableError).
      if (error instanceof Error) expect(error.name).toMatch(/^(TimeoutError|UnavailableError)$/);
      await expect(db.get('k')).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await db.close();
    }
  });
});

/** The key's N=3 replicas, computed the same way the cluster does. */
function replicasOf(owners: readonly string[], key: string): string[] {
  return [...Ring.fromOwners(owners.map(nodeId)).preferenceList(key, 3)];
}
