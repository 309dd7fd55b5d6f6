/**
 * `ringkv up --processes` through the real binary: each node a `ringkv node` child process over
 * TCP + mutual TLS, behind the one URL. Put/get through it; `kill` is a real SIGKILL (the pid is
 * gone) and writes continue; `restart` brings the node back and its hints are delivered; a
 * partition made and healed through the admin API shows in /status and cuts traffic between
 * the groups; the control routes refuse a caller without the token; Ctrl-C leaves no child
 * behind. add-node starts a process with `--join`, remove-node's leaver exits by itself, and a
 * SIGKILL of the supervisor leaves no child behind either (its children see stdin close).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config.js';
import { Ring } from '../../../src/core/ring.js';
import { nodeId } from '../../../src/core/types.js';
import { StorageFullError, startCluster, ValidationError } from '../../../src/index.js';
import { awaitUrl } from '../up-url.js';
import { BIN, http, ROOT, waitFor } from './helpers.js';

interface NodeView {
  readonly id: string;
  readonly state: 'up' | 'down';
  readonly keys: number | null;
  readonly hintsPending: number | null;
  readonly partitionGroup: number | null;
  readonly process?: { readonly url: string; readonly pid: number } | null;
}

const ADMIN = { 'content-type': 'application/json' };
const started: ChildProcess[] = [];
const pidsSeen = new Set<number>();
const tempDirs: string[] = [];

/** Starts `ringkv up --processes` with its temporary files under a directory of its own. */
async function up(nodes: number): Promise<{ child: ChildProcess; url: string; tmp: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'ringkv-upproc-test-'));
  tempDirs.push(tmp);
  const args = ['up', '--processes', '--nodes', String(nodes), '--memory', '--port', '0'];
  const child = spawn(process.execPath, [BIN, ...args, '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: tmp },
  });
  started.push(child);
  return { child, url: await awaitUrl(child), tmp };
}

async function nodesOf(url: string): Promise<NodeView[]> {
  const { status, text } = await http(`${url}/status`);
  expect(status).toBe(200);
  const nodes = (JSON.parse(text) as { nodes: NodeView[] }).nodes;
  for (const node of nodes) if (node.process) pidsSeen.add(node.process.pid);
  return nodes;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const put = (url: string, key: string, value: string, query = '') =>
  http(`${url}/kv/${key}${query}`, { method: 'PUT', body: value });

afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pid of pidsSeen) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('ringkv up --processes', () => {
  it.concurrent('serves one URL over node processes: SIGKILL, hints, partitions, Ctrl-C', async () => {
    const { child, url, tmp } = await up(5);
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const ring = Ring.create(ids.map(nodeId), DEFAULT_CONFIG.partitionCount);
    const onN2 = (key: string) => ring.preferenceList(key, 3).includes(nodeId('n2'));

    const first = await nodesOf(url);
    expect(first.map((node) => node.state)).toEqual(['up', 'up', 'up', 'up', 'up']);
    const pids = first.map((node) => node.process?.pid as number);
    expect(new Set(pids).size).toBe(5);
    for (const node of first) {
      expect((await http(`${node.process?.url}/health`)).status).toBe(200);
    }
    // The control routes are the supervisor's: without its token a caller is refused.
    const stats = await http(`${first[0]?.process?.url}/control/stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(stats.status).toBe(401);

    expect((await put(url, 'greeting', 'hello', '?w=3')).status).toBe(200);
    expect((await http(`${url}/kv/greeting`)).text).toBe('hello');
    // The front's lanes to the nodes carried them: /metrics counts requests per node.
    const metrics = (await http(`${url}/metrics`)).text;
    expect(metrics).toMatch(/^# HELP ringkv_lane_requests_total \S/m);
    const sent = [...metrics.matchAll(/^ringkv_lane_requests_total\{node="(n\d)"\} (\d+)$/gm)];
    expect(sent.every(([, node]) => ids.includes(node as string))).toBe(true);
    expect(sent.reduce((sum, [, , count]) => sum + Number(count), 0)).toBeGreaterThanOrEqual(2);
    const coordinators = ring.preferenceList('greeting', 3).map(String);
    expect(sent.some(([, node, count]) => coordinators.includes(node!) && Number(count) > 0)).toBe(
      true,
    );

    // kill: a real SIGKILL of n2's process.
    const n2pid = first[1]?.process?.pid as number;
    const killed = await http(`${url}/admin/nodes/n2/kill`, { method: 'POST', headers: ADMIN });
    expect(killed.status).toBe(200);
    expect(alive(n2pid)).toBe(false);
    expect((await nodesOf(url))[1]?.state).toBe('down');

    // Writes continue; the keys n2 replicates wait as hints on stand-ins.
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const key of keys) expect((await put(url, key, `v-${key}`)).status).toBe(200);
    const written = ['greeting', ...keys];
    const expectedOnN2 = written.filter(onN2).length;
    expect(keys.filter(onN2).length).toBeGreaterThan(0); // some writes needed a stand-in
    const hinted = await nodesOf(url);
    expect(hinted.reduce((sum, node) => sum + (node.hintsPending ?? 0), 0)).toBeGreaterThan(0);

    // restart: the same command; the hints reach n2.
    const restarted = await http(`${url}/admin/nodes/n2/restart`, {
      method: 'POST',
      headers: ADMIN,
    });
    expect(restarted.status).toBe(200);
    await waitFor(
      'hints delivered to n2',
      async () => {
        const nodes = await nodesOf(url);
        const pending = nodes.reduce((sum, node) => sum + (node.hintsPending ?? 0), 0);
        return pending === 0 && nodes[1]?.keys === expectedOnN2 ? true : undefined;
      },
      15_000,
    );
    const back = (await nodesOf(url))[1];
    expect(back?.state).toBe('up');
    expect(back?.process?.pid).not.toBe(n2pid);

    // A partition: shown in /status, and no message crosses it.
    const crossing = keys.find((key) => {
      const owners = ring.preferenceList(key, 3).map(String);
      return (
        owners.some((o) => ['n1', 'n2'].includes(o)) &&
        owners.some((o) => !['n1', 'n2'].includes(o))
      );
    }) as string;
    const cut = await http(`${url}/admin/partition`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({
        groups: [
          ['n1', 'n2'],
          ['n3', 'n4', 'n5'],
        ],
      }),
    });
    expect(cut.status).toBe(200);
    const groups = (await nodesOf(url)).map((node) => node.partitionGroup);
    expect(groups).toEqual([0, 0, 1, 1, 1]);
    const blocked = await put(url, crossing, 'across', '?w=3&pw=3&timeout_ms=1500');
    expect(blocked.status).toBe(503);
    const healed = await http(`${url}/admin/heal`, { method: 'POST', headers: ADMIN });
    expect(healed.status).toBe(200);
    expect((await nodesOf(url)).map((node) => node.partitionGroup)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    await waitFor(
      'a write across the healed partition',
      async () =>
        (await put(url, crossing, 'across', '?w=3&pw=3&timeout_ms=1500')).status === 200
          ? true
          : undefined,
      15_000,
      300,
    );

    // Ctrl-C: the supervisor stops every node and exits 0; no child is left.
    const allPids = (await nodesOf(url)).map((node) => node.process?.pid as number);
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    expect(allPids.filter(alive)).toEqual([]);
    // The --memory root was removed (tsx, running the sources, keeps its cache there too).
    expect((await readdir(tmp)).filter((name) => name.startsWith('ringkv-up-'))).toEqual([]);
  }, 60_000);

  it.concurrent('adds a node with --join and removes one; a SIGKILLed supervisor leaves no node behind', async () => {
    const { child, url } = await up(3);
    const before = await nodesOf(url);
    const pids = before.map((node) => node.process?.pid as number);
    expect(pids.every(alive)).toBe(true);
    const keys = Array.from({ length: 20 }, (_, i) => `j${i}`);
    for (const key of keys) expect((await put(url, key, `v-${key}`, '?w=3')).status).toBe(200);

    // add-node: a fourth process joins through the add-node protocol and takes its share.
    const added = await http(`${url}/admin/nodes`, { method: 'POST', headers: ADMIN, body: '{}' });
    expect(added.status).toBe(201);
    expect(JSON.parse(added.text)).toMatchObject({ id: 'n4', kind: 'join' });
    const four = await nodesOf(url);
    expect(four.map((node) => [node.id, node.state])).toEqual([
      ['n1', 'up'],
      ['n2', 'up'],
      ['n3', 'up'],
      ['n4', 'up'],
    ]);
    expect(four[3]?.keys).toBeGreaterThan(0);
    expect(four.reduce((sum, node) => sum + (node.keys ?? 0), 0)).toBe(keys.length * 3);

    // remove-node: n1 hands its data over and its process exits.
    const removed = await http(`${url}/admin/nodes/n1`, { method: 'DELETE', headers: ADMIN });
    expect(removed.status).toBe(200);
    expect(JSON.parse(removed.text)).toMatchObject({ id: 'n1', kind: 'leave' });
    await waitFor(
      'n1 process gone',
      async () => (alive(pids[0] as number) ? undefined : true),
      15_000,
    );
    const after = await nodesOf(url);
    expect(after.map((node) => node.id)).toEqual(['n2', 'n3', 'n4']);
    expect(after.reduce((sum, node) => sum + (node.keys ?? 0), 0)).toBe(keys.length * 3);
    for (const key of keys) expect((await http(`${url}/kv/${key}?r=3`)).text).toBe(`v-${key}`);

    // The supervisor dies without a word: every node sees its stdin close and exits.
    const running = after.map((node) => node.process?.pid as number);
    child.kill('SIGKILL');
    await exitOf(child);
    await waitFor(
      'every node process gone',
      async () => (running.some(alive) ? undefined : true),
      20_000,
    );
  }, 60_000);

  it('refuses, before starting anything, settings node processes would not follow', async () => {
    const refuse = (options: Parameters<typeof startCluster>[0], runtime: unknown) =>
      startCluster(options, { runtime } as Parameters<typeof startCluster>[1]);
    await expect(refuse({ nodes: 3, tickIntervalMs: 7 }, 'processes')).rejects.toThrow(
      /core limit cannot be changed/,
    );
    await expect(refuse({ nodes: 3, partitionCount: 64 }, 'processes')).rejects.toThrow(
      /partitionCount/,
    );
    await expect(refuse({ nodes: 3 }, 'fibers')).rejects.toThrow(ValidationError);
  });

  it.concurrent('passes the storage bound to every node process', async () => {
    // N=3 of 3: every node process holds every key, and a 1 KiB value's record counts 1 024 +
    // 96 + its key's length, so each node's 4 KiB bound takes four values and refuses the fifth.
    const db = await startCluster(
      { nodes: 3, n: 3, storageBytesMax: 4096, logLevel: 'warn' },
      { runtime: 'processes' },
    );
    try {
      const value = new Uint8Array(1024).fill(1);
      for (let i = 0; i < 4; i++) await db.put(`big-${i}`, value, { w: 3 });
      await expect(db.put('big-4', value, { w: 3 })).rejects.toBeInstanceOf(StorageFullError);
      expect((await db.get('big-0', { r: 3 })).found).toBe(true);
      const { context } = await db.get('big-0', { r: 3 });
      await db.delete('big-0', { context, w: 3 });
      expect(await db.put('big-4', value, { w: 3 })).toMatchObject({ acked: 3 });
    } finally {
      await db.close();
    }
  }, 60_000);
});
