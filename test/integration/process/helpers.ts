/**
 * Real `ringkv node` processes on loopback for the multi-process tests: free ports, the same
 * command every time (so a restart is the operator's restart), and cleanup that kills whatever
 * still runs. Spawning, bounded waits and certificates are shared (../node-processes.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts as freePortsAt } from '../../../src/runtime/free-ports.js';
import { BIN, http, makeCerts, NodeProcess } from '../node-processes.js';

export {
  BIN,
  http,
  makeCerts,
  metricByNode,
  NodeProcess,
  pause,
  ROOT,
  waitFor,
} from '../node-processes.js';
export const LOOPBACK = '127.0.0.1';

/**
 * `count` distinct free loopback ports, below the ephemeral range (runtime/free-ports.ts) and
 * below the supervisor's FREE_PORT_RANGE, in a block of their own per vitest worker. A test holds
 * its nodes' ports across kills and restarts without binding them: ports drawn from one shared
 * range let another test file (or an `up --processes` it runs) take one in between.
 */
export function freePorts(count: number): Promise<number[]> {
  return freePortsAt(count, LOOPBACK, testPortRange());
}

/** 1000 ports from 10000 up per vitest worker (VITEST_POOL_ID counts from 1). */
function testPortRange(): [number, number] {
  const pool = Number(process.env.VITEST_POOL_ID ?? '1');
  const low = 10_000 + ((Math.max(1, pool) - 1) % 10) * 1_000;
  return [low, low + 1_000];
}

export interface NodeSpec {
  readonly id: string;
  readonly peerPort: number;
  readonly httpPort: number;
}

export interface ClusterSpec {
  readonly nodes: readonly NodeSpec[];
  readonly root: string;
  /** A directory made by `ringkv certs`, or null for --insecure. */
  readonly tlsDir: string | null;
  readonly n: number;
}

/** Specs for `ids` on fresh free ports, under a fresh temporary root. */
export async function clusterSpec(
  ids: readonly string[],
  options: { tlsDir?: string | null; n?: number } = {},
): Promise<ClusterSpec> {
  const ports = await freePorts(ids.length * 2);
  const root = await mkdtemp(join(tmpdir(), 'ringkv-proc-'));
  const nodes = ids.map((id, i) => ({
    id,
    peerPort: ports[2 * i] as number,
    httpPort: ports[2 * i + 1] as number,
  }));
  return { nodes, root, tlsDir: options.tlsDir ?? null, n: options.n ?? 3 };
}

/** The flags every node of `spec` takes, founder or joiner, then `extra`. */
function clusterFlags(spec: ClusterSpec, extra: readonly string[]): string[] {
  return [
    '--n',
    String(spec.n),
    ...(spec.tlsDir === null ? ['--insecure'] : ['--tls-dir', spec.tlsDir]),
    '--log-level',
    'info',
    ...extra,
  ];
}

/** The exact command line of node `id` (the same on every start). */
export function nodeArgs(spec: ClusterSpec, id: string, extra: readonly string[] = []): string[] {
  const node = spec.nodes.find((n) => n.id === id);
  if (node === undefined) throw new Error(`no node ${id} in the spec`);
  const initial = spec.nodes.map((n) => `${n.id}=${LOOPBACK}:${n.peerPort}`).join(',');
  return [
    BIN,
    'node',
    '--id',
    id,
    '--listen',
    `${LOOPBACK}:${node.peerPort}`,
    '--http',
    `${LOOPBACK}:${node.httpPort}`,
    '--data-dir',
    join(spec.root, id),
    '--initial-cluster',
    initial,
    ...clusterFlags(spec, extra),
  ];
}

/** Starts one node and waits until it serves. */
export async function startNode(
  spec: ClusterSpec,
  id: string,
  extra: readonly string[] = [],
): Promise<{ process: NodeProcess; url: string }> {
  const process = new NodeProcess(nodeArgs(spec, id, extra));
  return { process, url: await process.up() };
}

/** A running cluster of node processes: its spec, each node's URL and process. */
export interface StartedCluster {
  readonly spec: ClusterSpec;
  readonly urls: Map<string, string>;
  readonly processes: Map<string, NodeProcess>;
}

/** Starts `ids` as node processes, over mutual TLS from `ringkv certs` unless `insecure`. */
export async function startCluster(
  ids: readonly string[],
  options: { insecure?: boolean } = {},
): Promise<StartedCluster> {
  const bare = await clusterSpec(ids);
  const spec = options.insecure ? bare : { ...bare, tlsDir: join(bare.root, 'tls') };
  if (spec.tlsDir !== null) await makeCerts(spec.tlsDir, ids);
  const started = await Promise.all(ids.map((id) => startNode(spec, id)));
  const urls = new Map<string, string>();
  const processes = new Map<string, NodeProcess>();
  started.forEach(({ process, url }, i) => {
    urls.set(ids[i] as string, url);
    processes.set(ids[i] as string, process);
  });
  return { spec, urls, processes };
}

/** Kills every process still running and removes the temporary root. */
export async function cleanup(
  processes: Iterable<NodeProcess>,
  spec: ClusterSpec | null,
): Promise<void> {
  await Promise.all([...processes].map((p) => p.stop('SIGKILL', 5_000)));
  if (spec !== null) await rm(spec.root, { recursive: true, force: true });
}

/** The command of a node that joins through the member listening on `seedPort`. */
export async function joinerArgs(
  spec: ClusterSpec,
  id: string,
  seedPort: number,
  extra: readonly string[] = [],
): Promise<string[]> {
  const [peerPort, httpPort] = (await freePorts(2)) as [number, number];
  return [
    BIN,
    'node',
    '--id',
    id,
    '--listen',
    `${LOOPBACK}:${peerPort}`,
    '--http',
    `${LOOPBACK}:${httpPort}`,
    '--data-dir',
    join(spec.root, id),
    '--join',
    `${LOOPBACK}:${seedPort}`,
    ...clusterFlags(spec, extra),
  ];
}

/** Per write of a WriteLoad, well past the cluster's own 2 s deadline and retries. */
const WRITE_TIMEOUT_MS = 10_000;

/** Writers that each PUT fresh keys through a random live node until stopped. */
export class WriteLoad {
  readonly acked = new Map<string, string>();
  failures = 0;
  sloppy = 0;
  /** Each write's latency in ms, in the order they ended (for the report, not asserted). */
  readonly latenciesMs: number[] = [];
  private seq = 0;
  private stopped = false;
  private readonly runs: Promise<void>[];

  constructor(
    writers: number,
    private readonly live: () => string[],
  ) {
    this.runs = Array.from({ length: writers }, () => this.run());
  }

  get attempts(): number {
    return this.acked.size + this.failures;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.runs);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const urls = this.live();
      const url = urls[Math.floor(Math.random() * urls.length)] as string;
      const key = `key-${this.seq++}`;
      const value = `value of ${key}`;
      const startMs = performance.now();
      try {
        const put = await http(
          `${url}/kv/${key}`,
          { method: 'PUT', body: value },
          WRITE_TIMEOUT_MS,
        );
        if (put.status === 200) {
          this.acked.set(key, value);
          if (JSON.parse(put.text).sloppy === true) this.sloppy++;
        } else this.failures++;
      } catch {
        this.failures++;
      }
      this.latenciesMs.push(performance.now() - startMs);
    }
  }
}
