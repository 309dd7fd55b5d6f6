import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatrixResult } from '../../../src/bench/matrix.js';
import { runOnce } from '../../../src/bench/matrix-run.js';
import { WORKLOADS } from '../../../src/bench/ycsb.js';
import { addBenchMatrixCommand } from '../../../src/cli/bench-matrix.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ringkv-matrix-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ringkv bench matrix (real worker threads)', () => {
  it('runs one short configuration end to end and writes the table, JSON and HTML', async () => {
    const profile = path.join(dir, 'profile.json');
    const constant = { constant: 1 };
    await writeFile(
      profile,
      JSON.stringify({ w: constant, a: constant, r: constant, s: constant }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (d: string | Uint8Array) => void out.push(String(d)),
      err: (t: string) => void err.push(t),
      isTty: false,
    };
    const json = path.join(dir, 'm.json');
    const html = path.join(dir, 'm.html');
    const program = new Command('ringkv').exitOverride();
    addBenchMatrixCommand(program.command('bench'), io);
    await program.parseAsync(
      ['bench', 'matrix', '--configs', '2,1', '--keys', '1000', '--duration', '2s'].concat([
        '--concurrency',
        '16',
        '--warmup',
        '500ms',
        '--profile',
        profile,
        '--json',
        json,
        '--html',
        html,
      ]),
      { from: 'user' },
    );
    expect(out.join('')).toContain('ops/s');
    const result = JSON.parse(await readFile(json, 'utf8')) as MatrixResult;
    expect(result.runs).toHaveLength(1);
    const run = result.runs[0]!;
    expect([run.r, run.w]).toEqual([2, 1]);
    expect(run.preloaded).toBe(1000);
    expect(run.throughput).toBeGreaterThan(0);
    expect(run.ops.failed).toBe(0);
    expect(Object.values(run.errors).every((count) => count === 0)).toBe(true);
    expect(run.latency.read.count + run.latency.update.count).toBe(run.ops.succeeded);
    expect(run.staleReads.checked).toBeGreaterThan(0);
    expect(run.availability).toBe(1);
    expect(result.network.mode).not.toBe('none');
    const page = await readFile(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/https?:\/\//);
    expect(err.join('')).toContain('run 1/1');
  });

  it('kills a node halfway through a fault run and reports availability', async () => {
    const result = await runOnce({
      nodes: 5,
      n: 3,
      r: 2,
      w: 2,
      workload: WORKLOADS.b,
      keys: 500,
      valueSizeBytes: 64,
      durationMs: 1500,
      concurrency: 8,
      seed: 3,
      preloadMsMax: 5000,
      warmupMs: 0,
      scenario: 'kill-1',
      requestTimeoutMs: 500,
      retryAttemptsMax: 3,
    });
    expect(result.killed).toEqual(['n1']);
    expect(result.killAtMs).not.toBeNull();
    expect(result.ops.attempted).toBeGreaterThan(0);
    expect(result.availability).toBeGreaterThan(0);
    expect(result.availability).toBeLessThanOrEqual(1);
    expect(result.availabilityAfterFault).not.toBeNull();
  });
});
