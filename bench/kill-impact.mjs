#!/usr/bin/env node
// What a kill -9 of one node does to the clients of the others: 5 `ringkv node` processes over
// mutual TLS on loopback (durable, N=3 R=W=2), a closed-loop load of 1 KiB PUTs and GETs (half
// each) spread over the HTTP endpoints of the four nodes that stay up, then SIGKILL of n3. Prints
// one row per second from a few seconds before the kill to `after` seconds after it: requests
// answered, errors (non-2xx/300 answers, timeouts), p50 and p99 in ms.
//
//   node bench/kill-impact.mjs [before=5] [after=10] [concurrency=32]
//
// Every wait has a deadline; every process started is killed on exit. Uses the built binary
// through tsx (bin/ringkv.mjs), so run it from a checkout after `npm install`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from './peers/harness.mjs';

const [beforeArg = '5', afterArg = '10', concurrencyArg = '32'] = process.argv.slice(2);
const beforeS = Number(beforeArg);
const afterS = Number(afterArg);
const concurrency = Number(concurrencyArg);
if (![beforeS, afterS, concurrency].every((v) => Number.isInteger(v) && v > 0)) {
  console.error('usage: kill-impact.mjs [before seconds] [after seconds] [concurrency]');
  process.exit(2);
}

const BIN = join(ROOT, 'bin', 'ringkv.mjs');
const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const VICTIM = 'n3';
const REQUEST_TIMEOUT_MS = 5_000;
const START_TIMEOUT_MS = 30_000;
const KEYS = 2_000;

const root = mkdtempSync(join(tmpdir(), 'ringkv-kill-impact-'));
const children = new Map();
function cleanup() {
  for (const child of children.values()) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

const certs = spawnSync(
  process.execPath,
  [BIN, 'certs', '--dir', join(root, 'tls'), '--nodes', IDS.join(',')],
  { encoding: 'utf8' },
);
if (certs.status !== 0) {
  console.error(`ringkv certs failed: ${certs.stderr}`);
  process.exit(1);
}

const ports = new Map();
for (const id of IDS) ports.set(id, { peer: await freePort(), http: await freePort() });
const initial = IDS.map((id) => `${id}=127.0.0.1:${ports.get(id).peer}`).join(',');

function startNode(id) {
  const { peer, http: httpPort } = ports.get(id);
  const child = spawn(
    process.execPath,
    [
      BIN,
      'node',
      '--id',
      id,
      '--listen',
      `127.0.0.1:${peer}`,
      '--http',
      `127.0.0.1:${httpPort}`,
      '--data-dir',
      join(root, id),
      '--initial-cluster',
      initial,
      '--tls-dir',
      join(root, 'tls'),
      '--log-level',
      'warn',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.set(id, child);
  return `http://127.0.0.1:${httpPort}`;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function request(url, method, key, body) {
  return new Promise((resolve) => {
    const req = http.request(`${url}/kv/${key}`, { method, agent, timeout: REQUEST_TIMEOUT_MS });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

async function waitHealthy(url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if ((await request(url, 'GET', 'warm-up', undefined)) !== 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not serve within ${START_TIMEOUT_MS} ms`);
}

const urls = new Map(IDS.map((id) => [id, startNode(id)]));
await Promise.all([...urls.values()].map(waitHealthy));
const targets = IDS.filter((id) => id !== VICTIM).map((id) => urls.get(id));

const body = Buffer.alloc(1024, 'v');
/** Per second since the start: latencies of answered requests, and errors. */
const seconds = [];
const start = performance.now();
const endAt = start + (beforeS + afterS) * 1000;
let next = 0;
async function client() {
  while (performance.now() < endAt) {
    const url = targets[next++ % targets.length];
    const key = `k${Math.floor(Math.random() * KEYS)}`;
    const put = Math.random() < 0.5;
    const t0 = performance.now();
    const status = await request(url, put ? 'PUT' : 'GET', key, put ? body : undefined);
    const t1 = performance.now();
    const slot = Math.floor((t0 - start) / 1000);
    seconds[slot] ??= { latencies: [], errors: 0 };
    const ok = status === 200 || status === 204 || status === 300 || status === 404;
    if (ok) seconds[slot].latencies.push(t1 - t0);
    else seconds[slot].errors++;
  }
}
const killTimer = setTimeout(() => children.get(VICTIM).kill('SIGKILL'), beforeS * 1000);
await Promise.all(Array.from({ length: concurrency }, client));
clearTimeout(killTimer);

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
console.log(
  `# kill -9 of ${VICTIM} at t=0; load: ${concurrency} clients over ${targets.length} nodes; loadavg ${(
    await import('node:os')
  )
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('t(s)\tok\terrors\tavail%\tp50ms\tp99ms');
for (let i = 0; i < beforeS + afterS; i++) {
  const slot = seconds[i] ?? { latencies: [], errors: 0 };
  const sorted = slot.latencies.sort((a, b) => a - b);
  const total = sorted.length + slot.errors;
  const avail = total === 0 ? Number.NaN : (100 * sorted.length) / total;
  console.log(
    [
      i - beforeS,
      sorted.length,
      slot.errors,
      avail.toFixed(2),
      quantile(sorted, 0.5).toFixed(1),
      quantile(sorted, 0.99).toFixed(1),
    ].join('\t'),
  );
}
agent.destroy();
process.exit(0);
