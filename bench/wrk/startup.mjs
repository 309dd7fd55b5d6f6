#!/usr/bin/env node
// Start-up time of `npm start` to a ready cluster: the time from spawning `npm start` until
// GET /health answers 200, on this checkout. Each run gets a fresh, empty data directory (as on
// a fresh clone, where `up` defaults to durable lmdb under ./ringkv-data), plus runs with
// --memory. The cluster is stopped with SIGTERM to its process group after each run.
//
// Usage: node bench/wrk/startup.mjs [runs=3] [port=18090]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? '3');
const port = Number(process.argv[3] ?? '18090');
const root = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

function healthy() {
  return new Promise((resolve) => {
    const req = http.get(`http://127.0.0.1:${port}/health`, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

async function once(mode) {
  if (await healthy()) throw new Error(`port ${port} is already serving; pick another`);
  const dir = mkdtempSync(join(tmpdir(), 'ringkv-startup-'));
  const storage = mode === 'memory' ? ['--memory'] : ['--data-dir', join(dir, 'ringkv-data')];
  const started = performance.now();
  const child = spawn('npm', ['start', '--silent', '--', '--port', String(port), ...storage], {
    cwd: root,
    detached: true, // its own process group: npm, node and the workers stop together
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    while (!(await healthy())) {
      if (exited) throw new Error(`npm start exited: ${stderr}`);
      if (performance.now() - started > READY_TIMEOUT_MS) throw new Error('not ready in 60 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return performance.now() - started;
  } finally {
    if (!exited) {
      process.kill(-child.pid, 'SIGTERM');
      const deadline = performance.now() + STOP_TIMEOUT_MS;
      while (!exited && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!exited) process.kill(-child.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const mode of ['data-dir', 'memory']) {
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await once(mode));
  const shown = times.map((t) => `${Math.round(t)}`).join(', ');
  console.log(`npm start (${mode}): median ${Math.round(median(times))} ms (runs: ${shown} ms)`);
}
