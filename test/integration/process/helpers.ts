/**
 * Real `ringkv node` processes for the multi-process tests: free ports, spawning with the same
 * command every time (so a restart is the operator's restart), bounded waits, and cleanup that
 * kills whatever still runs. Every wait has a deadline; nothing sleeps for a fixed time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'ringkv.mjs');
export const LOOPBACK = '127.0.0.1';
/** A node process (tsx compiling on a busy 2-core machine) must be up within this. */
const START_TIMEOUT_MS = 20_000;

/** `count` distinct ports the kernel handed out as free (listened on, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<import('node:net').Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, LOOPBACK, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
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
    '--n',
    String(spec.n),
    ...(spec.tlsDir === null ? ['--insecure'] : ['--tls-dir', spec.tlsDir]),
    '--log-level',
    'info',
    ...extra,
  ];
}

export class NodeProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The banner's URL once the node serves HTTP; rejects if it exits or takes too long. */
  async up(timeoutMs = START_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const match = /is up at (https?:\/\/\S+)/.exec(this.stdout);
      if (match?.[1] !== undefined) return match[1];
      if (!this.running) throw new Error(`node exited before it was up:\n${this.stderr}`);
      await pause(50);
    }
    throw new Error(`node not up within ${timeoutMs} ms:\n${this.stderr}`);
  }

  /** The actor the banner names. */
  get actor(): string | null {
    return /actor\s+(\S+)/.exec(this.stdout)?.[1] ?? null;
  }

  /** Sends `signal` and waits (bounded) for the exit. */
  async stop(signal: NodeJS.Signals, timeoutMs = 15_000) {
    if (this.running) this.child.kill(signal);
    return this.finished(timeoutMs);
  }

  /** Waits for the exit; SIGKILL (and the exit that follows) if it does not come in time. */
  async finished(timeoutMs = 15_000) {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Makes the cluster's CA and node certificates with `ringkv certs` under `dir`. */
export async function makeCerts(dir: string, ids: readonly string[]): Promise<void> {
  const certs = new NodeProcess([
    BIN,
    'certs',
    '--dir',
    dir,
    '--nodes',
    ids.join(','),
    '--days',
    '1',
  ]);
  const { code } = await certs.finished(30_000);
  if (code !== 0) throw new Error(`ringkv certs failed (${code}):\n${certs.stderr}`);
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

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await pause(everyMs);
  }
  throw new Error(
    `${what}: not within ${timeoutMs} ms${last === null ? '' : ` (${String(last)})`}`,
  );
}

/** One HTTP call with its own deadline. */
export async function http(
  url: string,
  init: RequestInit = {},
  timeoutMs = 10_000,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

/** The values of one metric, by node label, from a /metrics page. */
export function metricByNode(page: string, name: string): Map<string, number> {
  const values = new Map<string, number>();
  const pattern = new RegExp(`^${name}\\{[^}]*node="([^"]+)"[^}]*\\} (\\S+)$`, 'gm');
  for (const match of page.matchAll(pattern)) {
    values.set(match[1] as string, Number(match[2]));
  }
  return values;
}
