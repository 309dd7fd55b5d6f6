/**
 * A sixth `ringkv node` process joins a 5-node cluster with --join while writers load it, then
 * a node leaves through the admin API of another, and one killed with -9 is removed. Afterwards every acknowledged write reads back
 * at r=N through every remaining node's HTTP, and what each node holds on disk is exactly the
 * keys whose preference list (in the final ring) contains it. Plus the refusals: an id in the
 * ring, an id that left. (join-tls.test.ts: over mutual TLS; test/cli: the --join flag checks.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ring } from '../../../src/core/ring.js';
import { nodeId } from '../../../src/core/types.js';
import { openStorage } from '../../../src/storage/index.js';
import {
  type ClusterSpec,
  cleanup,
  http,
  joinerArgs,
  NodeProcess,
  pause,
  startCluster,
  WriteLoad,
  waitFor,
} from './helpers.js';

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const JOINER = 'n6';
const LEAVER = 'n2';
const CRASHED = 'n5';
const N = 3;
const WRITERS = 6;
/** Admin routes refuse a state change without it (cross-site protection). */
const ADMIN_HEADERS = { 'x-ringkv-request': '1' };

interface NodeView {
  readonly ringVersion: number;
  readonly keys: number;
  readonly hints: number;
  readonly owners: string[];
}

async function viewOf(url: string): Promise<NodeView> {
  const status = JSON.parse((await http(`${url}/status`)).text);
  const self = status.nodes[0];
  return {
    ringVersion: self.ringVersion,
    keys: self.keys,
    hints: self.hintsPending,
    owners: status.ring.owners,
  };
}

/** Polls until every node is on one ring version, holds no hints and its key count stays put. */
async function awaitQuiet(urls: readonly string[]): Promise<NodeView[]> {
  let previous = '';
  let steady = 0;
  return waitFor(
    'the nodes settle on one ring, no hints, steady key counts',
    async () => {
      const views = await Promise.all(urls.map(viewOf));
      const versions = new Set(views.map((v) => v.ringVersion));
      const shape = JSON.stringify(views.map((v) => [v.ringVersion, v.keys, v.hints]));
      const quiet = versions.size === 1 && views.every((v) => v.hints === 0);
      steady = quiet && shape === previous ? steady + 1 : 0;
      previous = shape;
      return steady >= 3 ? views : undefined;
    },
    20_000,
    400,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last [version, keys, hints] by node: ${previous}`);
  });
}

/** Reads every key at r=N through `url` (a few at a time); returns those that differ. */
async function readBack(url: string, acked: ReadonlyMap<string, string>): Promise<string[]> {
  const wrong: string[] = [];
  const keys = [...acked.keys()];
  const parallel = 64;
  for (let i = 0; i < keys.length; i += parallel) {
    await Promise.all(
      keys.slice(i, i + parallel).map(async (key) => {
        const got = await http(`${url}/kv/${key}?r=${N}`);
        if (got.status !== 200 || got.text !== acked.get(key)) {
          wrong.push(`${key}: ${got.status} ${got.text.slice(0, 80)}`);
        }
      }),
    );
  }
  return wrong;
}

/** The data keys in a stopped node's lmdb environment. */
async function keysOnDisk(spec: ClusterSpec, id: string): Promise<Set<string>> {
  const storage = await openStorage({ dataDir: join(spec.root, id), nodeId: id });
  try {
    return new Set([...storage.entries({ ns: 'data' })].map(([key]) => key));
  } finally {
    await storage.close();
  }
}

describe('--join of a sixth node process under load, a leave, a remove (5 nodes, N=3)', () => {
  let spec: ClusterSpec;
  const urls = new Map<string, string>();
  const processes = new Map<string, NodeProcess>();
  const all = new Set<NodeProcess>();

  beforeAll(async () => {
    const started = await startCluster(IDS, { insecure: true });
    spec = started.spec;
    for (const [id, url] of started.urls) urls.set(id, url);
    for (const [id, process] of started.processes) {
      processes.set(id, process);
      all.add(process);
    }
  }, 60_000);

  afterAll(async () => {
    await cleanup(all, spec ?? null);
  }, 30_000);

  it('joins, leaves, and every acked write reads back; each node holds exactly its keys', async () => {
    const live = new Set(IDS);
    const load = new WriteLoad(WRITERS, () => [...live].map((id) => urls.get(id) as string));
    await pause(1_000);

    // The joiner asks n3 (any member will do) and serves once its partitions have arrived.
    const seed = spec.nodes.find((n) => n.id === 'n3')?.peerPort as number;
    const joiner = new NodeProcess(await joinerArgs(spec, JOINER, seed));
    all.add(joiner);
    processes.set(JOINER, joiner);
    urls.set(JOINER, await joiner.up());
    live.add(JOINER);
    expect(joiner.stderr).toMatch(/join accepted/);
    const joined = await viewOf(urls.get(JOINER) as string);
    expect(joined.owners).toContain(JOINER);
    await pause(1_000);

    // n1 runs the leave of n2; n2 hands its data over and its process exits 0.
    live.delete(LEAVER);
    const url1 = urls.get('n1') as string;
    const leave = await http(
      `${url1}/admin/nodes/${LEAVER}`,
      { method: 'DELETE', headers: ADMIN_HEADERS },
      60_000,
    );
    expect(leave.status, leave.text).toBe(200);
    expect(JSON.parse(leave.text)).toMatchObject({ id: LEAVER, kind: 'leave' });
    const leaver = processes.get(LEAVER) as NodeProcess;
    expect(await leaver.finished(15_000)).toEqual({ code: 0, signal: null });
    expect(leaver.stdout).toMatch(/left the cluster/);

    // A node that is down is removed: the others re-replicate its keys among themselves.
    live.delete(CRASHED);
    await (processes.get(CRASHED) as NodeProcess).stop('SIGKILL');
    await pause(1_500); // its address refuses connections: n1 holds it down
    const remove = await http(
      `${url1}/admin/nodes/${CRASHED}`,
      { method: 'DELETE', headers: ADMIN_HEADERS },
      60_000,
    );
    expect(remove.status, remove.text).toBe(200);
    expect(JSON.parse(remove.text)).toMatchObject({ id: CRASHED, kind: 'remove' });
    await pause(500);
    await load.stop();
    expect(load.acked.size).toBeGreaterThan(100);

    const remaining = [...live];
    const views = await awaitQuiet(remaining.map((id) => urls.get(id) as string));
    const owners = views[0]?.owners as string[];
    expect(new Set(owners)).toEqual(new Set(remaining));

    // An id in the ring, and the id that left, are refused (fresh data dirs, so no restart).
    const refused = await Promise.all(
      [
        ['n4', 'taken'],
        [LEAVER, 'gone'],
      ].map(async ([id, dir]) => {
        const args = await joinerArgs(spec, id as string, seed, [
          '--data-dir',
          join(spec.root, `${dir}-${id}`),
        ]);
        const attempt = new NodeProcess(args);
        all.add(attempt);
        const { code } = await attempt.finished(30_000);
        return { code, stderr: attempt.stderr };
      }),
    );
    expect(refused[0]?.code, refused[0]?.stderr).toBe(2);
    expect(refused[0]?.stderr).toMatch(/node n4 is already in the ring/);
    expect(refused[1]?.code, refused[1]?.stderr).toBe(2);
    expect(refused[1]?.stderr).toMatch(/node n2 was removed from the cluster/);

    for (const id of remaining) {
      const wrong = await readBack(urls.get(id) as string, load.acked);
      expect(wrong, `through ${id}: ${wrong.join('; ')}`).toEqual([]);
    }

    // Stop them (SIGTERM drains, exit 0), then look at what each one keeps on disk.
    for (const id of remaining) {
      expect(await (processes.get(id) as NodeProcess).stop('SIGTERM')).toEqual({
        code: 0,
        signal: null,
      });
    }
    const ring = Ring.fromOwners(owners.map(nodeId));
    const held = new Map<string, Set<string>>();
    for (const id of remaining) held.set(id, await keysOnDisk(spec, id));
    const everyKey = new Set<string>();
    for (const keys of held.values()) for (const key of keys) everyKey.add(key);
    for (const key of load.acked.keys()) expect(everyKey.has(key), key).toBe(true);
    const misplaced: string[] = [];
    for (const key of everyKey) {
      const replicas = new Set<string>(ring.preferenceList(key, N));
      for (const id of remaining) {
        if (held.get(id)?.has(key) !== replicas.has(id)) {
          misplaced.push(`${key} on ${id}: ${held.get(id)?.has(key)}, replicas ${[...replicas]}`);
        }
      }
    }
    expect(misplaced.slice(0, 10)).toEqual([]);
    expect(await keysOnDisk(spec, JOINER).then((keys) => keys.size)).toBeGreaterThan(0);
  }, 120_000);
});
