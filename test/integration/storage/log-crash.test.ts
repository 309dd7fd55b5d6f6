/**
 * kill -9 of a process writing to a LogStorage, three times on the same directory, at random
 * points (mid-append, mid-compaction): every batch acknowledged before the kill is found again,
 * whole, and the directory keeps opening. Real processes and files; the writer compacts every
 * 64 KiB so kills land inside compactions too.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LogStorage } from '../../../src/storage/log.js';

const WRITER = fileURLToPath(new URL('./log-writer.ts', import.meta.url));
const ROUNDS = 3;

/** Runs the writer until it acknowledged `acks` more batches, then SIGKILLs it; the acked ids. */
function writeThenKill(directory: string, first: number, acks: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, directory, String(first)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked: number[] = [];
    let pending = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) acked.push(Number(line.slice('acked '.length)));
      if (acked.length >= acks) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer ended by itself: ${stderr}`));
      else resolve(acked);
    });
  });
}

describe('LogStorage under kill -9', () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-log-crash-'));
  afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('keeps every acknowledged batch across kills at random points', async () => {
    let first = 0;
    const everAcked: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const acked = await writeThenKill(directory, first, 1500 + round * 700);
      expect(acked.length).toBeGreaterThan(0);
      everAcked.push(...acked);

      const storage = await LogStorage.open({ path: directory });
      try {
        // Each key's newest acknowledged batch, or a later one that reached the disk unacked.
        const lastAcked = new Map<number, number>();
        for (const i of everAcked)
          lastAcked.set(i % 500, Math.max(lastAcked.get(i % 500) ?? -1, i));
        for (const [slot, i] of lastAcked) {
          const got = storage.get(`k${slot}`)?.siblings[0];
          expect(got, `k${slot}`).toBeDefined();
          const stored = Number(Buffer.from(got!.value!).toString().slice(1));
          expect(stored, `k${slot} holds batch ${i} or a later one`).toBeGreaterThanOrEqual(i);
          expect(got!.dot[1]).toBe(stored + 1); // one batch's record, whole
        }
        const last = storage.getMeta('last') as number;
        expect(last).toBeGreaterThanOrEqual(Math.max(...everAcked));
        first = last + 1;
      } finally {
        await storage.close();
      }
    }
    const names = fs.readdirSync(directory);
    expect(names.some((name) => name.endsWith('.tmp'))).toBe(false);
  }, 120_000);
});
