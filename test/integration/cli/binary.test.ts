/**
 * The real `ringkv` binary (node bin/ringkv.mjs) end to end: `up --memory --port 0` in the
 * background, every client and fault command against it, a clean exit 0 on SIGTERM; and the
 * exit codes for an unreachable cluster (3) and bad arguments (2).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../../src/client/types.js';
import { awaitUrl } from '../up-url.js';

const BIN = fileURLToPath(new URL('../../../bin/ringkv.mjs', import.meta.url));
/** Longest a single client command may take before the test calls it hung. */
const COMMAND_TIMEOUT_MS = 15_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  bytes: Buffer;
}

/** Runs the binary to completion (killed after COMMAND_TIMEOUT_MS). */
function ringkv(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const bytes = Buffer.concat(out);
      resolve({ code, stdout: bytes.toString('utf8'), stderr, bytes });
    });
  });
}

function states(run: Run): string[] {
  return (JSON.parse(run.stdout) as ClusterStatus).nodes.map((node) => node.state);
}

describe('the ringkv binary against a running cluster', () => {
  let up: ChildProcess;
  let url = '';
  let dir = '';
  const cli = (...args: string[]) => ringkv(args, { RINGKV_URL: url });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ringkv-bin-'));
    up = spawn(process.execPath, [BIN, 'up', '--memory', '--port', '0', '--nodes', '4'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await awaitUrl(up);
  });

  afterAll(() => {
    if (up.exitCode === null) up.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('put, get (value, siblings, context), put with context, delete, get 404; put --file', async () => {
    const keyValueFlow = async () => {
      expect(await cli('put', 'greeting', 'hello')).toMatchObject({ code: 0 });
      expect(await cli('put', 'greeting', 'hi')).toMatchObject({ code: 0 });
      const two = await cli('get', 'greeting', '--r', '3');
      expect(two.code).toBe(0);
      expect(two.stdout).toMatch(/^2 siblings.*\n\[1\] (hello|hi)\n\[2\] (hello|hi)\n$/);
      const context = /^context: (\S+)$/m.exec(two.stderr)![1]!;
      const merged = await cli('put', 'greeting', 'hey', '--context', context, '--w', '3');
      expect(merged).toMatchObject({ code: 0 });
      expect(merged.stdout).toContain('siblings 1');
      const deleted = await cli('delete', 'greeting');
      expect(deleted).toMatchObject({ code: 0 });
      expect(deleted.stdout).toContain('deleted greeting');
      const gone = await cli('get', 'greeting');
      expect(gone.code).toBe(4);
      expect(gone.stderr).toContain('not found: greeting');
    };
    const fileFlow = async () => {
      const file = join(dir, 'value.bin');
      writeFileSync(file, Buffer.from([0, 1, 2, 255, 10]));
      expect((await cli('put', 'binary', '--file', file)).code).toBe(0);
      const got = await ringkv(['get', 'binary', '--url', url]);
      expect(got.code).toBe(0);
      expect([...got.bytes]).toEqual([0, 1, 2, 255, 10]);
    };
    await Promise.all([keyValueFlow(), fileFlow()]);
  });

  it('status, kill, restart, partition, heal and net', async () => {
    const [table, unknown] = await Promise.all([cli('status'), cli('kill', 'n9')]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^node\s+state\s+partitions\s+keys\s+hints pending\s+anti-entropy\s+group/,
    );
    expect(table.stdout).toMatch(/^n4\s+up\s/m);
    expect(unknown.code).toBe(4);

    expect(await cli('kill', 'n2')).toMatchObject({ code: 0, stdout: 'n2 killed\n' });
    expect(states(await cli('status', '--json'))).toEqual(['up', 'down', 'up', 'up']);
    expect(await cli('restart', 'n2')).toMatchObject({ code: 0, stdout: 'n2 restarted\n' });

    const cut = await cli('partition', 'n1,n2', 'n3,n4');
    expect(cut).toMatchObject({ code: 0 });
    expect(cut.stdout).toContain('partitioned [n1 n2] | [n3 n4]');
    // Any key's 3 replicas span both halves: a write needing all three cannot succeed.
    const [cutStatus, failed, twice] = await Promise.all([
      cli('status', '--json'),
      cli('put', 'k', 'v', '--w', '3', '--pw', '3', '--request-timeout', '200ms'),
      cli('partition', 'n1', 'n1,n2'),
    ]);
    const nodes = (JSON.parse(cutStatus.stdout) as ClusterStatus).nodes;
    expect(nodes.map((n) => n.partitionGroup)).toEqual([0, 0, 1, 1]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('HTTP 503 QUORUM');
    expect(twice.code).toBe(2);
    expect((await cli('heal')).stdout).toContain('no partition');

    const net = await cli('net', '--delay', '5ms', '--jitter', '1ms', '--loss', '1%');
    expect(net).toMatchObject({ code: 0 });
    expect(net.stdout).toContain('delay 5 ms, jitter 1 ms, loss 1%');
    expect((await cli('net', '--reset')).stdout).toContain('delay 0 ms, jitter 0 ms, loss 0%');
  });

  it('SIGTERM shuts the cluster down cleanly with exit 0', async () => {
    const exited = new Promise<number | null>((resolve) => up.once('exit', resolve));
    up.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

it('without a cluster: exit 3 when unreachable, 2 on bad arguments, 0 for --help', async () => {
  const [unreachable, help, ...usage] = await Promise.all([
    ringkv(['get', 'k', '--url', 'http://127.0.0.1:1']),
    ringkv(['partition', '--help']),
    ringkv(['put']),
    ringkv(['net', '--loss', 'lots']),
    ringkv(['up', '--memory', '--data-dir', 'x']),
    ringkv(['frobnicate']),
  ]);
  expect(unreachable.code).toBe(3);
  expect(unreachable.stderr).toContain('cannot reach the cluster');
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: ringkv partition');
  expect(usage.map((r) => r.code)).toEqual([2, 2, 2, 2]);
});
