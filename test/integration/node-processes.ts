/**
 * What every test that runs real `ringkv` processes shares: spawning one (optionally behind a
 * command prefix such as `ip netns exec NS`), bounded waits for its banner and its exit, the
 * cluster's certificates, one HTTP call with a deadline, and metrics by node. Every wait has a
 * deadline; nothing sleeps for a fixed time. Used by process/ (loopback) and netns/ (namespaces).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'ringkv.mjs');
/** A node process (tsx compiling on a busy 2-core machine) must be up within this. */
const START_TIMEOUT_MS = 20_000;

export class NodeProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /**
   * Runs `node ARGS`, or `PREFIX… node ARGS` when a prefix is given; the prefix must exec (not
   * fork) the command, as `ip netns exec` does, so signals reach node itself.
   */
  constructor(args: readonly string[], prefix: readonly string[] = []) {
    const [command, ...rest] = [...prefix, process.execPath, ...args] as [string, ...string[]];
    this.child = spawn(command, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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

/**
 * Makes the cluster's CA and node certificates with `ringkv certs` under `dir`; `hosts` (e.g.
 * `n1=10.0.0.1,…`) puts each node's address in its certificate.
 */
export async function makeCerts(
  dir: string,
  ids: readonly string[],
  hosts: string | null = null,
): Promise<void> {
  const certs = new NodeProcess([
    BIN,
    'certs',
    '--dir',
    dir,
    '--nodes',
    ids.join(','),
    '--days',
    '1',
    ...(hosts === null ? [] : ['--hosts', hosts]),
  ]);
  const { code } = await certs.finished(30_000);
  if (code !== 0) throw new Error(`ringkv certs failed (${code}):\n${certs.stderr}`);
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
