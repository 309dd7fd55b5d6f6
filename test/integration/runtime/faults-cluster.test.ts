/**
 * Injected network faults on a real worker-thread cluster: a partition cuts a node off (its
 * key's PW=3 writes fail), survives that node's restart, and heals; loss and delay apply to
 * node-to-node messages only. Run with every node on one thread (faults on the LocalHub), a
 * thread each (faults on MessageChannels) and a mix.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../../../src/core/ring.js';
import { nodeId } from '../../../src/core/types.js';
import { type Cluster, QuorumError, startCluster } from '../../../src/index.js';

describe.each([1, 2, 5])('network faults on a real cluster, %i node thread(s)', (nodeThreads) => {
  let db: Cluster;
  let key = '';
  /** A key whose first replica is n1, so the client picks n1 to coordinate its writes. */
  let keyOfN1 = '';

  beforeAll(async () => {
    db = await startCluster({
      nodes: 5,
      nodeThreads,
      n: 3,
      requestTimeoutMs: 300,
      retryAttemptsMax: 1,
      tickIntervalMs: 50,
    });
    const ring = Ring.fromOwners((await db.status()).ring.owners.map(nodeId));
    key = Array.from({ length: 200 }, (_, i) => `faults-${i}`).find((k) =>
      ring.preferenceList(k, 3).includes(nodeId('n1')),
    )!;
    keyOfN1 = Array.from({ length: 200 }, (_, i) => `n1-first-${i}`).find(
      (k) => ring.preferenceList(k, 3)[0] === nodeId('n1'),
    )!;
  });

  afterEach(async () => {
    await db.heal();
    await db.setNetwork({ delayMs: 0, jitterMs: 0, lossRate: 0 });
  });

  afterAll(async () => {
    await db?.close();
  });

  /** Retries `attempt` until it resolves, for at most 10 s. */
  async function eventually<T>(attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  it('a partition isolates a node, survives its restart, and heals', async () => {
    const view = await db.partition([['n1']]);
    expect(view.groups).toEqual([['n1'], ['n2', 'n3', 'n4', 'n5']]);
    const status = await db.status();
    expect(status.nodes.map((n) => n.partitionGroup)).toEqual([0, 1, 1, 1, 1]);
    expect(status.network.groups).toEqual(view.groups);
    await expect(db.put(key, 'cut', { w: 3, pw: 3 })).rejects.toBeInstanceOf(QuorumError);

    await db.killNode('n1');
    await db.restartNode('n1');
    expect((await db.status()).nodes[0]).toMatchObject({
      state: 'up',
      partitionGroup: 0,
      messagesDropped: 0,
    });
    // n1 coordinates: the restarted node itself drops what it sends to the other side.
    await expect(db.put(keyOfN1, 'still cut', { w: 2 })).rejects.toBeInstanceOf(QuorumError);
    expect((await db.status()).nodes[0]!.messagesDropped).toBeGreaterThanOrEqual(2);

    const healed = await db.heal();
    expect(healed.groups).toBeNull();
    expect((await db.status()).nodes.every((n) => n.partitionGroup === null)).toBe(true);
    const result = await eventually(() => db.put(key, 'whole', { w: 3, pw: 3 }));
    expect(result).toMatchObject({ acked: 3, sloppy: false });
  });

  it('loss drops node-to-node messages; delay slows them down', async () => {
    await db.setNetwork({ lossRate: 1 });
    expect((await db.status()).network).toMatchObject({ lossRate: 1, delayMs: 0 });
    await expect(db.put(key, 'lost', { w: 2 })).rejects.toBeInstanceOf(QuorumError);
    await db.setNetwork({ lossRate: 0, delayMs: 100 });
    await eventually(() => db.put(key, 'warm-up', { w: 3, pw: 3, timeoutMs: 2000 }));
    const startedAt = Date.now();
    await db.put(key, 'slow', { w: 3, timeoutMs: 2000 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190); // there and back, 100 ms each
    const view = await db.setNetwork({ delayMs: 0 });
    expect(view).toEqual({ delayMs: 0, jitterMs: 0, lossRate: 0, groups: null });
  });

  it('rejects bad fault settings without changing anything', async () => {
    await expect(db.partition([['n1'], ['n1', 'n2']])).rejects.toThrow(/partition groups 1 and 2/);
    await expect(db.partition([['nope']])).rejects.toThrow(/unknown node "nope"/);
    await expect(db.setNetwork({ lossRate: 2 })).rejects.toThrow(/lossRate/);
    await expect(db.setNetwork({ delayMs: 60_001 })).rejects.toThrow(/at most 60000/);
    expect((await db.status()).network).toEqual({
      delayMs: 0,
      jitterMs: 0,
      lossRate: 0,
      groups: null,
    });
  });
});
