/**
 * Durable restart with the real binary: `ringkv up --port 0 --data-dir <tmp>` (5 nodes, N=3,
 * R=W=2, the default log engine), 10 000 keys written over HTTP with 64 requests in flight,
 * SIGTERM (exit 0), `up` again on the same directory, and every key read back over HTTP byte for
 * byte — one value, no siblings. A key never written is still 404, so the reads are not answered by accident.
 *
 * A request answered 503/504 (quorum not met, timeout: a loaded 2-core machine) is retried, at
 * most RETRIES_MAX times; a write only counts once it was acknowledged (200), which is what the
 * cluster promises to find again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../bin/ringkv.mjs', import.meta.url));
const KEYS = 10_000;
const IN_FLIGHT = 64;
/** Tries per request on a 503/504 or a reset connection, the first included. */
const RETRIES_MAX = 3;
/** Longest `up` may take to print its URL, and to exit after SIGTERM. */
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
/** Longest one HTTP request may take. */
const REQUEST_TIMEOUT_MS = 15_000;

function key(i: number): string {
  return `durable/${String(i).padStart(5, '0')}`;
}

/** Deterministic values of 0..299 bytes, text and binary mixed. */
function value(i: number): Buffer {
  if (i % 3 === 0) return Buffer.from(`value ${i} ✓`);
  const out = Buffer.alloc((i * 37) % 300);
  for (let j = 0; j < out.length; j++) out[j] = (i * 131 + j * 7) & 0xff;
  return out;
}

interface Up {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
}

/** Starts `up` and resolves once it printed `ringkv is up at <url>` on its first line. */
function startUp(dataDir: string): Promise<Up> {
  const child = spawn(process.execPath, [BIN, 'up', '--port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`up printed no URL within ${START_TIMEOUT_MS} ms: ${stderr}`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`up exited with ${code} before it was up: ${stderr}`));
    };
    child.once('exit', onExit);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const firstLine = stdout.split('\n', 1)[0]!;
      if (!stdout.includes('\n')) return;
      const match = /^ringkv is up at (http:\/\/\S+)$/.exec(firstLine);
      clearTimeout(timer);
      child.off('exit', onExit);
      if (match === null) {
        child.kill('SIGKILL');
        reject(new Error(`unexpected first line from up: ${JSON.stringify(firstLine)}`));
        return;
      }
      resolve({ child, url: match[1]!, stderr: () => stderr });
    });
  });
}

/** Sends SIGTERM and resolves with the exit code (SIGKILL and a rejection after the timeout). */
function stop(up: Up): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (up.child.exitCode !== null) {
      resolve(up.child.exitCode);
      return;
    }
    const timer = setTimeout(() => {
      up.child.kill('SIGKILL');
      reject(new Error(`up did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM: ${up.stderr()}`));
    }, STOP_TIMEOUT_MS);
    up.child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    up.child.kill('SIGTERM');
  });
}

interface Reply {
  readonly status: number;
  readonly body: Buffer;
}

function request(
  agent: http.Agent,
  url: string,
  method: 'GET' | 'PUT',
  body?: Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface Counters {
  retries: number;
}

/** One request, retried on 503/504 or a reset connection, at most RETRIES_MAX tries. */
async function steady(
  agent: http.Agent,
  url: string,
  method: 'GET' | 'PUT',
  counters: Counters,
  body?: Buffer,
): Promise<Reply> {
  for (let attempt = 1; ; attempt++) {
    try {
      const reply = await request(agent, url, method, body);
      if ((reply.status !== 503 && reply.status !== 504) || attempt >= RETRIES_MAX) return reply;
    } catch (error) {
      if (attempt >= RETRIES_MAX) throw error;
    }
    counters.retries += 1;
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
  }
}

/** Runs `task(i)` for i in 0..count-1 with at most `limit` running at once. */
async function pool(count: number, limit: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

describe('ringkv up --data-dir survives a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ringkv-durable-'));
  const running: Up[] = [];

  afterAll(() => {
    for (const up of running) if (up.child.exitCode === null) up.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes 10 000 keys, stops on SIGTERM, starts again and reads them all back', async () => {
    const timings: string[] = [];
    let mark = performance.now();
    const lap = (what: string) => {
      const now = performance.now();
      timings.push(`${what} ${Math.round(now - mark)} ms`);
      mark = now;
    };

    const first = await startUp(dataDir);
    running.push(first);
    lap('start');
    const writes: Counters = { retries: 0 };
    const writeAgent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const failedWrites: string[] = [];
    await pool(KEYS, IN_FLIGHT, async (i) => {
      const url = `${first.url}/kv/${encodeURIComponent(key(i))}`;
      const reply = await steady(writeAgent, url, 'PUT', writes, value(i));
      if (reply.status !== 200) failedWrites.push(`${key(i)}: ${reply.status} ${reply.body}`);
    });
    writeAgent.destroy();
    lap(`write ${KEYS}`);
    expect(failedWrites.slice(0, 5), `${failedWrites.length} writes failed`).toEqual([]);

    expect(await stop(first), first.stderr()).toBe(0);
    lap('stop');

    const second = await startUp(dataDir);
    running.push(second);
    lap('restart');
    const reads: Counters = { retries: 0 };
    const readAgent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const wrong: string[] = [];
    await pool(KEYS, IN_FLIGHT, async (i) => {
      const url = `${second.url}/kv/${encodeURIComponent(key(i))}`;
      const reply = await steady(readAgent, url, 'GET', reads);
      if (reply.status !== 200) wrong.push(`${key(i)}: ${reply.status} ${reply.body}`);
      else if (!reply.body.equals(value(i))) wrong.push(`${key(i)}: different bytes`);
    });
    const never = await request(readAgent, `${second.url}/kv/durable%2Fnever-written`, 'GET');
    readAgent.destroy();
    lap(`read ${KEYS}`);
    expect(wrong.slice(0, 5), `${wrong.length} of ${KEYS} keys did not read back`).toEqual([]);
    expect(never.status).toBe(404);

    expect(await stop(second), second.stderr()).toBe(0);
    lap('stop');
    console.log(
      `durable restart: ${timings.join(', ')}; retries: ${writes.retries} writes, ${reads.retries} reads`,
    );
  }, 120_000);
});
