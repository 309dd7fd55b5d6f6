/**
 * The remote client against `ringkv node` processes (issue 12: "test both when both exist"):
 * connect() to three insecure node processes, write and read through them, kill -9 one node and
 * keep going on the others (failover), then read back at R=N once it is restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type RemoteClient } from '../../../src/index.js';
import {
  type ClusterSpec,
  cleanup,
  clusterSpec,
  type NodeProcess,
  startNode,
  waitFor,
} from './helpers.js';

const IDS = ['n1', 'n2', 'n3'];

describe('connect() to ringkv node processes', () => {
  let spec: ClusterSpec;
  let db: RemoteClient;
  const processes = new Map<string, NodeProcess>();
  const urls: string[] = [];

  beforeAll(async () => {
    spec = await clusterSpec(IDS);
    const started = await Promise.all(IDS.map((id) => startNode(spec, id)));
    started.forEach(({ process, url }, i) => {
      processes.set(IDS[i] as string, process);
      urls.push(url);
    });
    db = await connect({ nodes: urls, timeoutMs: 5_000 });
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await cleanup(processes.values(), spec ?? null);
  });

  it('writes through some nodes and reads through others, with contexts', async () => {
    for (let i = 0; i < 12; i++) await db.put(`k${i}`, `v${i}`);
    const got = await db.get('k3', { r: 3 });
    expect(got.strings()).toEqual(['v3']);
    await db.put('k3', 'v3b', { context: got.context });
    expect((await db.get('k3', { r: 3 })).strings()).toEqual(['v3b']);
  });

  it('keeps serving when a node is killed, and the node catches up after its restart', async () => {
    await processes.get('n2')!.stop('SIGKILL', 5_000);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      await db.put(`after-${i}`, `x${i}`, { w: 2 });
      acked.push(`after-${i}`);
    }
    const { process } = await startNode(spec, 'n2');
    processes.set('n2', process);
    await waitFor(
      'every write acked while n2 was down reads back at r=3',
      async () => {
        for (const key of acked) {
          if ((await db.get(key, { r: 3 })).strings()[0] !== `x${key.slice(6)}`) return undefined;
        }
        return true;
      },
      30_000,
      500,
    );
  }, 60_000);
});
