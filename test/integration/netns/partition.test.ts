/**
 * Five `ringkv node` processes (mutual TLS), each in its own network namespace, joined by veth
 * pairs to one bridge that lives in a namespace of its own; the test process (root namespace)
 * reaches them through one more veth pair. Clients add unique elements to a few keys by
 * read-merge-write with contexts (a set as JSON; siblings merged by union on read). The network
 * is then partitioned {n1,n2} | {n3,n4,n5} with iptables DROP rules inside the node namespaces,
 * each side's clients keep writing through that side's nodes, one node per side is killed with
 * SIGKILL and restarted, the partition heals, and once the cluster has converged (no hint
 * pending, every node's R=N read of every key agrees, twice in a row) every element whose add
 * was acknowledged must be in the final set.
 *
 * Needs root, `ip` and `iptables`; without them the suite is skipped and its title says why.
 * Everything it creates (namespaces, links, addresses, rules — rules live inside the node
 * namespaces) is removed in afterAll, which then checks `ip netns list` and `iptables -S`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config.js';
import { Ring } from '../../../src/core/ring.js';
import { nodeId } from '../../../src/core/types.js';
import {
  BIN,
  http,
  makeCerts,
  metricByNode,
  NodeProcess,
  pause,
  waitFor,
} from '../node-processes.js';

const run = promisify(execFile);

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'] as const;
const SIDE_A = ['n1', 'n2'];
const SIDE_B = ['n3', 'n4', 'n5'];
/**
 * Three keys with distinct preference lists (N=3), each holding a replica on both sides, so both
 * sides can coordinate every key while partitioned and their adds meet as siblings after the heal.
 * (A key replicated only on {n3,n4,n5} can take no write on side A: only a replica issues dots.)
 */
const KEYS = pickKeys();
const CLIENTS_PER_SIDE = 2;
const PEER_PORT = 7000;
const HTTP_PORT = 8000;
/** Per HTTP request, past the cluster's own request deadline and retries. */
const REQUEST_TIMEOUT_MS = 8_000;
/** After the heal, how long the cluster has to deliver its hints and agree on every key. */
const CONVERGE_TIMEOUT_MS = 40_000;
/** How long each side may take to ack an add again after a partition, kill or heal. */
const SIDE_WRITES_TIMEOUT_MS = 20_000;
/** Every `ip` / `iptables` command must finish within this. */
const COMMAND_TIMEOUT_MS = 10_000;

/** Names unique to this run: namespaces `rkv-<pid>-…`, the root-side link `rkv<pid>h`. */
const RUN = `rkv-${process.pid}`;
const HOST_LINK = `rkv${process.pid % 1_000_000}h`;
const BRIDGE_NS = `${RUN}-br`;
const nsOf = (id: string) => `${RUN}-${id}`;

function pickKeys(): string[] {
  const ring = Ring.create(IDS.map(nodeId), DEFAULT_CONFIG.partitionCount);
  const keys = new Map<string, string>();
  for (let i = 0; keys.size < 3 && i < 1_000; i++) {
    const replicas: readonly string[] = ring.preferenceList(`set-${i}`, 3);
    const list = replicas.join(',');
    const both = [SIDE_A, SIDE_B].every((side) => side.some((id) => replicas.includes(id)));
    if (both && ![...keys.values()].includes(list)) keys.set(`set-${i}`, list);
  }
  if (keys.size < 3) throw new Error('no three keys with replicas on both sides');
  return [...keys.keys()];
}

/** `ip` and `iptables` live in /usr/sbin, which a non-login PATH may lack. */
const SBIN_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

/** `ip` by its full path, for the node processes spawned through `ip netns exec`. */
const IP_BIN =
  SBIN_PATH.split(':')
    .map((dir) => join(dir, 'ip'))
    .find((path) => path.startsWith('/') && existsSync(path)) ?? 'ip';

async function sh(command: string, args: readonly string[]): Promise<string> {
  const env = { ...process.env, PATH: SBIN_PATH };
  const { stdout } = await run(command, args, { timeout: COMMAND_TIMEOUT_MS, env });
  return stdout;
}

/** Why the test cannot run here, or null when it can create namespaces. */
async function cannotRun(): Promise<string | null> {
  if (process.platform !== 'linux')
    return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'not root (ip netns needs root)';
  for (const tool of ['ip', 'iptables']) {
    try {
      await sh(tool, ['-V']);
    } catch {
      return `no ${tool} binary (install iproute2 and iptables)`;
    }
  }
  const probe = `${RUN}-probe`;
  try {
    await sh('ip', ['netns', 'add', probe]);
    await sh('ip', ['netns', 'exec', probe, 'iptables', '-w', '5', '-S']);
  } catch (error) {
    return `cannot create a namespace with iptables in it: ${firstLine(error)}`;
  } finally {
    await sh('ip', ['netns', 'del', probe]).catch(() => undefined);
  }
  return null;
}

function firstLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr || String(error);
  return text.trim().split('\n')[0] ?? text;
}

/** A 10.x.y.0/24 that overlaps no route of this machine (derived from the pid, then probed). */
async function freeSubnet(): Promise<string> {
  const routes = (await sh('ip', ['-4', 'route', 'show', 'table', 'all']))
    .split('\n')
    .map((line) => /^(?:\S+ )?(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?\s/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ base: toInt(m[1] as string), bits: Number(m[2] ?? 32) }));
  for (let i = 0; i < 200; i++) {
    const n = (process.pid + i * 7919) % (56 * 256);
    const prefix = `10.${200 + Math.floor(n / 256)}.${n % 256}`;
    const base = toInt(`${prefix}.0`);
    const overlaps = routes.some((r) => {
      const bits = Math.min(r.bits, 24);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      return (r.base & mask) >>> 0 === (base & mask) >>> 0;
    });
    if (!overlaps) return prefix;
  }
  throw new Error('no free 10.x.y.0/24 subnet');
}

function toInt(address: string): number {
  return address.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
}

const skipReason = await cannotRun();
if (skipReason !== null) console.warn(`netns partition test skipped: ${skipReason}`);

/** One side's clients: read, union the siblings, add a unique element, write with the context. */
class SetWriters {
  /** key -> elements whose PUT was acknowledged (200). */
  readonly acked = new Map<string, Set<string>>(KEYS.map((k) => [k, new Set<string>()]));
  ackedCount = 0;
  attempts = 0;
  readFailures = 0;
  writeFailures = 0;
  private stopped = false;
  private readonly runs: Promise<void>[];

  constructor(
    name: string,
    private readonly live: () => string[],
  ) {
    this.runs = Array.from({ length: CLIENTS_PER_SIDE }, (_, i) => this.run(`${name}${i}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.runs);
  }

  private async run(client: string): Promise<void> {
    let seq = 0;
    while (!this.stopped) {
      const urls = this.live();
      const url = urls[Math.floor(Math.random() * urls.length)];
      const key = KEYS[Math.floor(Math.random() * KEYS.length)] as string;
      if (url === undefined) {
        await pause(50);
        continue;
      }
      let read: { set: Set<string>; context: string | null };
      try {
        read = await readSet(`${url}/kv/${key}`);
      } catch {
        this.readFailures++;
        await pause(50);
        continue;
      }
      const element = `${client}-${seq++}`;
      read.set.add(element);
      this.attempts++;
      try {
        const headers: Record<string, string> = {};
        if (read.context !== null) headers['X-Ringkv-Context'] = read.context;
        const put = await http(
          `${url}/kv/${key}`,
          { method: 'PUT', body: JSON.stringify([...read.set].sort()), headers },
          REQUEST_TIMEOUT_MS,
        );
        if (put.status === 200) {
          this.acked.get(key)?.add(element);
          this.ackedCount++;
        } else this.writeFailures++;
      } catch {
        this.writeFailures++; // unknown outcome: neither counted as acked nor as lost
      }
    }
  }
}

/** The set stored under a key (union of its siblings) and the context that covers them. */
async function readSet(url: string): Promise<{ set: Set<string>; context: string | null }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const context = response.headers.get('x-ringkv-context');
  const text = await response.text();
  if (response.status === 404) return { set: new Set(), context };
  if (response.status === 200) return { set: new Set(parseElements(text)), context };
  if (response.status === 300) {
    const { siblings } = JSON.parse(text) as { siblings: { value: string }[] };
    const set = new Set<string>();
    for (const sibling of siblings) {
      for (const e of parseElements(Buffer.from(sibling.value, 'base64').toString())) set.add(e);
    }
    return { set, context };
  }
  throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 200)}`);
}

function parseElements(text: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((e) => typeof e === 'string')) {
    throw new Error(`not a set of strings: ${text.slice(0, 200)}`);
  }
  return value;
}

describe.skipIf(skipReason !== null)(
  `5 ringkv node processes in network namespaces, partitioned with iptables${
    skipReason === null ? '' : ` — SKIPPED: ${skipReason}`
  }`,
  () => {
    let root: string | null = null;
    let prefix = '';
    const namespaces: string[] = [];
    const all = new Set<NodeProcess>();
    const processes = new Map<string, NodeProcess>();
    const urls = new Map<string, string>();
    const down = new Set<string>();
    const writers: SetWriters[] = [];
    let iptablesBefore = '';
    const ip = (id: string) => `${prefix}.${10 + IDS.indexOf(id as (typeof IDS)[number]) + 1}`;

    function nodeArgs(id: string): string[] {
      const initial = IDS.map((n) => `${n}=${ip(n)}:${PEER_PORT}`).join(',');
      return [
        BIN,
        'node',
        '--id',
        id,
        '--listen',
        `${ip(id)}:${PEER_PORT}`,
        '--http',
        `${ip(id)}:${HTTP_PORT}`,
        '--data-dir',
        join(root as string, id),
        '--tls-dir',
        join(root as string, 'tls'),
        '--initial-cluster',
        initial,
        '--n',
        '3',
        '--log-level',
        'info',
      ];
    }

    async function start(id: string): Promise<NodeProcess> {
      const node = new NodeProcess(nodeArgs(id), [IP_BIN, 'netns', 'exec', nsOf(id)]);
      all.add(node);
      processes.set(id, node);
      urls.set(id, await node.up());
      return node;
    }

    /** Each node of one side drops every packet from and to the other side's addresses. */
    async function partition(sides: readonly (readonly string[])[]): Promise<void> {
      for (const side of sides) {
        const others = IDS.filter((id) => !side.includes(id)).map(ip);
        for (const id of side) {
          for (const other of others) {
            const exec = ['netns', 'exec', nsOf(id), 'iptables', '-w', '5'];
            await sh('ip', [...exec, '-A', 'INPUT', '-s', other, '-j', 'DROP']);
            await sh('ip', [...exec, '-A', 'OUTPUT', '-d', other, '-j', 'DROP']);
          }
        }
      }
    }

    /** Packets the partition rules dropped, per node (proof the partition cut real traffic). */
    async function dropped(): Promise<Map<string, number>> {
      const counts = new Map<string, number>();
      for (const id of IDS) {
        const rules = await sh('ip', [
          ...['netns', 'exec', nsOf(id), 'iptables', '-w', '5', '-L', '-v', '-n', '-x'],
        ]);
        let packets = 0;
        for (const line of rules.split('\n')) {
          const match = /^\s*(\d+)\s+\d+\s+DROP\s/.exec(line);
          if (match !== null) packets += Number(match[1]);
        }
        counts.set(id, packets);
      }
      return counts;
    }

    async function heal(): Promise<void> {
      for (const id of IDS) {
        await sh('ip', ['netns', 'exec', nsOf(id), 'iptables', '-w', '5', '-F', 'INPUT']);
        await sh('ip', ['netns', 'exec', nsOf(id), 'iptables', '-w', '5', '-F', 'OUTPUT']);
      }
    }

    beforeAll(async () => {
      iptablesBefore = await sh('iptables', ['-w', '5', '-S']);
      prefix = await freeSubnet();
      root = await mkdtemp(join(tmpdir(), 'ringkv-netns-'));
      // The bridge, in its own namespace so the root namespace's firewall never sees its frames.
      namespaces.push(BRIDGE_NS);
      await sh('ip', ['netns', 'add', BRIDGE_NS]);
      await sh('ip', ['-n', BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge']);
      await sh('ip', ['-n', BRIDGE_NS, 'link', 'set', 'br0', 'up']);
      for (const id of IDS) {
        const ns = nsOf(id);
        namespaces.push(ns);
        await sh('ip', ['netns', 'add', ns]);
        await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        await sh('ip', [
          ...['link', 'add', 'name', `v${id}`, 'netns', BRIDGE_NS, 'type', 'veth'],
          ...['peer', 'name', 'eth0', 'netns', ns],
        ]);
        await sh('ip', ['-n', BRIDGE_NS, 'link', 'set', `v${id}`, 'master', 'br0', 'up']);
        await sh('ip', ['-n', ns, 'addr', 'add', `${ip(id)}/24`, 'dev', 'eth0']);
        await sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      }
      // The test's clients, in the root namespace, reach the nodes through one more veth pair.
      await sh('ip', [
        ...['link', 'add', 'name', HOST_LINK, 'type', 'veth'],
        ...['peer', 'name', 'host', 'netns', BRIDGE_NS],
      ]);
      await sh('ip', ['-n', BRIDGE_NS, 'link', 'set', 'host', 'master', 'br0', 'up']);
      await sh('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', HOST_LINK]);
      await sh('ip', ['link', 'set', HOST_LINK, 'up']);

      await makeCerts(join(root, 'tls'), IDS, IDS.map((id) => `${id}=${ip(id)}`).join(','));
      await Promise.all(IDS.map(start));
    }, 60_000);

    afterAll(async () => {
      await Promise.all(writers.map((w) => w.stop())); // each within one request deadline
      await Promise.all([...all].map((p) => p.stop('SIGKILL', 5_000)));
      // Deleting a namespace deletes its links, their veth peers and its iptables rules.
      for (const ns of namespaces) await sh('ip', ['netns', 'del', ns]).catch(() => undefined);
      await sh('ip', ['link', 'del', HOST_LINK]).catch(() => undefined);
      if (root !== null) await rm(root, { recursive: true, force: true });
      const left = (await sh('ip', ['netns', 'list'])).split('\n').filter((l) => l.startsWith(RUN));
      expect(left, 'namespaces left behind').toEqual([]);
      await expect(sh('ip', ['link', 'show', HOST_LINK]), 'root-side link left').rejects.toThrow();
      expect(await sh('iptables', ['-w', '5', '-S']), 'root iptables rules changed').toBe(
        iptablesBefore,
      );
    }, 60_000);

    it('loses no acknowledged element through a partition, kill -9 on each side and the heal', async () => {
      const t0 = performance.now();
      const liveOf = (side: readonly string[]) => () =>
        side.filter((id) => !down.has(id)).map((id) => urls.get(id) as string);
      const a = new SetWriters('a', liveOf(SIDE_A));
      const b = new SetWriters('b', liveOf(SIDE_B));
      writers.push(a, b);
      const timeline: string[] = [];
      const mark = (what: string) =>
        timeline.push(
          `${what} ${((performance.now() - t0) / 1000).toFixed(1)}s (acked A ${a.ackedCount} B ${b.ackedCount})`,
        );
      /** Bounded: waits until both `sides` acked another add after this call. */
      const bothWrite = async (what: string, sides: readonly SetWriters[]) => {
        const from = sides.map((w) => w.ackedCount);
        await waitFor(
          what,
          async () =>
            sides.every((w, i) => w.ackedCount > (from[i] as number)) ? true : undefined,
          SIDE_WRITES_TIMEOUT_MS,
          100,
        );
        mark(what);
      };

      await bothWrite('both sides write', [a, b]);
      await pause(1_000);

      mark('partition');
      await partition([SIDE_A, SIDE_B]);
      const partitionedAt = { a: a.ackedCount, b: b.ackedCount };
      // Each side's nodes must notice the other side is gone and go on with its own clients.
      await bothWrite('each side writes alone', [a, b]);
      await pause(1_000);
      for (const [victim, side] of [
        ['n2', a],
        ['n4', b],
      ] as const) {
        mark(`kill -9 ${victim}`);
        down.add(victim);
        const killed = processes.get(victim) as NodeProcess;
        expect((await killed.stop('SIGKILL')).signal).toBe('SIGKILL');
        await pause(1_000);
        const again = await start(victim);
        expect(again.actor, `${victim} comes back as itself`).toBe(killed.actor);
        down.delete(victim);
        mark(`${victim} up`);
        await bothWrite(`its side writes again after ${victim}'s restart`, [side]);
        await pause(1_000);
      }
      const whilePartitioned = {
        a: a.ackedCount - partitionedAt.a,
        b: b.ackedCount - partitionedAt.b,
      };
      const drops = await dropped();
      mark('heal');
      await heal();
      const healedAt = performance.now();
      await bothWrite('both sides write after the heal', [a, b]);
      await pause(1_000);
      await Promise.all([a.stop(), b.stop()]);
      const stoppedAt = performance.now();
      mark('clients stopped');

      // Converged: no hint pending anywhere and every node's R=N read of every key agrees,
      // in two rounds in a row.
      let previous: string | null = null;
      let hintsDeliveredAt: number | null = null;
      let disagreements = 0;
      const readErrors: string[] = [];
      const final = await waitFor(
        'convergence after the heal',
        async () => {
          const pages = await Promise.all(IDS.map((id) => http(`${urls.get(id)}/metrics`)));
          let pending = 0;
          for (const page of pages) {
            for (const v of metricByNode(page.text, 'ringkv_node_hints_pending').values()) {
              pending += v;
            }
          }
          // A reason thrown is kept by waitFor and named if the deadline passes.
          if (pending > 0) {
            hintsDeliveredAt = null;
            throw new Error(`${pending} hints still pending`);
          }
          hintsDeliveredAt ??= performance.now();
          const sets = new Map<string, string[]>();
          for (const key of KEYS) {
            const seen = await Promise.all(
              IDS.map(async (id) => {
                const { set } = await readSet(`${urls.get(id)}/kv/${key}?r=3`).catch((error) => {
                  readErrors.push(`${id} ${String(error).slice(0, 160)}`);
                  throw error;
                });
                return JSON.stringify([...set].sort());
              }),
            );
            if (new Set(seen).size !== 1) {
              disagreements++;
              throw new Error(`nodes read ${new Set(seen).size} different sets for ${key}`);
            }
            sets.set(key, JSON.parse(seen[0] as string) as string[]);
          }
          const now = JSON.stringify([...sets]);
          const stable = now === previous;
          previous = now;
          return stable ? sets : undefined;
        },
        CONVERGE_TIMEOUT_MS,
        250,
      );
      const convergedAt = performance.now();

      const lost: string[] = [];
      for (const key of KEYS) {
        const have = new Set(final.get(key));
        for (const writers of [a, b]) {
          for (const element of writers.acked.get(key) ?? []) {
            if (!have.has(element)) lost.push(`${key}: ${element}`);
          }
        }
      }
      const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `netns partition: ${a.attempts + b.attempts} adds tried, ${a.ackedCount + b.ackedCount} ` +
          `acked (side A ${a.ackedCount}, side B ${b.ackedCount}; while partitioned A ` +
          `${whilePartitioned.a}, B ${whilePartitioned.b}), ${a.writeFailures + b.writeFailures} ` +
          `adds and ${a.readFailures + b.readFailures} reads failed, ${lost.length} acked ` +
          `elements lost; final set sizes ${KEYS.map((k) => `${k} ${final.get(k)?.length}`).join(', ')}; ` +
          `converged ${seconds(convergedAt - healedAt)} after the heal ` +
          `(hints all delivered at ${seconds((hintsDeliveredAt ?? convergedAt) - healedAt)}, ` +
          `${disagreements} read rounds with nodes disagreeing and ${readErrors.length} R=N reads ` +
          `failing after that${readErrors.length > 0 ? `, e.g. ${readErrors.at(-1)}` : ''}) ` +
          `(${seconds(convergedAt - stoppedAt)} after the clients stopped); ` +
          `run ${seconds(convergedAt - t0)}; packets dropped by the partition ` +
          `${[...drops].map(([id, n]) => `${id} ${n}`).join(', ')}\n  ${timeline.join('\n  ')}`,
      );
      for (const id of IDS) expect(drops.get(id), `packets ${id} dropped`).toBeGreaterThan(0);
      expect(lost.slice(0, 20)).toEqual([]);
    }, 90_000);
  },
);
