#!/usr/bin/env node
// ringkv against a 3-member etcd on the same machine, in one run (`npm run bench:peers`).
//
// Installs nothing: uses the `etcd` and `wrk` binaries when they are on PATH (Debian: apt-get
// install etcd-server wrk) and says so and exits 0 when one is missing. Starts, on loopback with
// free ports and temporary directories:
//   - etcd × 3 (one Raft group), spoken to through its v3 HTTP gateway (JSON, base64 keys);
//   - `ringkv up` with its defaults (durable: the log engine, or --engine lmdb), and
//     `ringkv up --memory`.
// Then runs `wrk -t2 -c50 --latency` for a few seconds per cell, 1 KiB values:
//   PUT                      ringkv PUT /kv/:key        vs etcd POST /v3/kv/put
//   GET R=2 / linearizable   ringkv GET /kv/:key        vs etcd POST /v3/kv/range
//   GET R=1 / serializable   ringkv GET /kv/:key?r=1    vs etcd range with serializable: true
// The systems take turns within each row (interleaved, order rotated per round), so a noisy
// neighbour hurts all of them alike. Prints a table with req/s, p50/p99, the ratios against etcd
// and the machine's load average before and after.
//
//   node bench/peers/etcd-vs-ringkv.mjs [--seconds 5] [--rounds 1] [--connections 50] [--threads 2]
//                                       [--baseline <checkout>] [--processes]
//                                       [--engine log|lmdb]
//
// --baseline adds the default durable `up` of another checkout (e.g. a `git worktree` of the
// commit before a change) as a column, interleaved with the rest: a before/after in one run.
// --processes adds `up --processes` (each node an OS process, mutual TLS between them, --engine),
// addressed at one node's own HTTP port as a client on another machine would be: that node
// coordinates the keys it holds and forwards the others' PUTs to one of their replicas.
//
// etcd is addressed at its leader (its best case: a follower forwards writes and linearizable
// reads to the leader). GET rows read a prefilled set of 1 000 keys; PUT writes 100 000 keys, a
// new set each round (a blind PUT to a key ringkv holds adds a sibling, where etcd overwrites).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  builtRingkv,
  fmt,
  freePort,
  loadavg,
  median,
  onPath,
  positiveInt,
  printTable,
  ROOT,
  run,
  skipUnlessFound,
  start,
  tempDirs,
  track,
  waitUntil,
} from './harness.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REQUEST_TIMEOUT_MS = 10_000;
const GET_KEYS = 1000;
const PUT_KEYS = 100_000;
const VALUE = Buffer.alloc(1024, 'v');

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    baseline: { type: 'string' },
    processes: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'log' },
  },
});
if (!['log', 'lmdb'].includes(flags.engine)) throw new Error('--engine is log or lmdb');
/** The durable HEAD cluster's engine (the baseline checkout runs its own default). */
const DURABLE = `ringkv (${flags.engine})`;
const seconds = positiveInt(flags, 'seconds', 600);
const rounds = positiveInt(flags, 'rounds', 20);
const connections = positiveInt(flags, 'connections', 10_000);
const threads = positiveInt(flags, 'threads', 64);

const etcdVersion = onPath('etcd', '--version');
const wrkVersion = onPath('wrk', '-v');
skipUnlessFound('peer comparison', { etcd: etcdVersion, wrk: wrkVersion }, 'etcd-server wrk');

function request(url, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: REQUEST_TIMEOUT_MS });
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no reply in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function startEtcd() {
  const dir = mkdtempSync(join(tmpdir(), 'peers-etcd-'));
  tempDirs.push(dir);
  const members = [];
  for (const name of ['e1', 'e2', 'e3']) {
    members.push({ name, client: await freePort(), peer: await freePort() });
  }
  const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',');
  const procs = members.map((m) =>
    start(`etcd ${m.name}`, 'etcd', [
      `--name=${m.name}`,
      `--data-dir=${join(dir, m.name)}`,
      `--listen-client-urls=http://127.0.0.1:${m.client}`,
      `--advertise-client-urls=http://127.0.0.1:${m.client}`,
      `--listen-peer-urls=http://127.0.0.1:${m.peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${m.peer}`,
      `--initial-cluster=${cluster}`,
      '--initial-cluster-state=new',
      '--initial-cluster-token=ringkv-peers-bench',
      '--logger=zap',
      '--log-level=error',
    ]),
  );
  for (const [i, m] of members.entries()) {
    await waitUntil(
      `etcd ${m.name}`,
      async () => {
        const r = await request(`http://127.0.0.1:${m.client}/health`);
        return r.status === 200 && JSON.parse(r.body).health === 'true';
      },
      procs[i],
    );
  }
  // The leader's client URL: each member's status names the leader's id and its own.
  for (const m of members) {
    const r = await request(`http://127.0.0.1:${m.client}/v3/maintenance/status`, {
      method: 'POST',
      body: '{}',
    });
    const status = JSON.parse(r.body);
    if (status.leader === status.header.member_id) return `http://127.0.0.1:${m.client}`;
  }
  throw new Error('etcd: no member reports itself as the leader');
}

async function startRingkv(memory, checkout = ROOT, processes = false) {
  const dir = mkdtempSync(join(tmpdir(), 'peers-ringkv-'));
  tempDirs.push(dir);
  const args = [builtRingkv(checkout), 'up', '--port', '0', '--host', '127.0.0.1'];
  args.push(...(memory ? ['--memory'] : ['--data-dir', join(dir, 'data')]));
  if (!memory && checkout === ROOT) args.push('--engine', flags.engine);
  if (processes) args.push('--processes');
  const name = processes ? 'ringkv --processes' : memory ? 'ringkv --memory' : 'ringkv';
  const child = start(name, process.execPath, args, checkout);
  // The process runtime lists each node's own URL ("n1  http://…  pid …"): use n1's.
  const pattern = processes ? /^\s+n1\s+(http\S+)/m : /ringkv is up at (\S+)/;
  let url = null;
  child.stdout.on('data', () => {
    url ??= pattern.exec(child.logTail())?.[1] ?? null;
  });
  await waitUntil('ringkv up', async () => url !== null, child);
  return url;
}

/** Writes the GET keys (1 KiB each) with 64 requests in flight. */
async function prefill(put) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < GET_KEYS) {
        const i = next++;
        const r = await put(`wrk-get-${i}`);
        if (r.status !== 200) throw new Error(`prefill wrk-get-${i}: HTTP ${r.status}`);
      }
    }),
  );
}
const b64 = (s) => Buffer.from(s).toString('base64');
const etcdPut = (base) => (key) =>
  request(`${base}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(key), value: VALUE.toString('base64') }),
  });
const ringkvPut = (base) => (key) => request(`${base}/kv/${key}`, { method: 'PUT', body: VALUE });

/** wrk's latency figure ("812.00us", "1.20ms", "2.01s") in ms. */
function toMs(text) {
  const m = /^([0-9.]+)(us|ms|s|m)$/.exec(text);
  if (m === null) return Number.NaN;
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2]];
  return Number(m[1]) * scale;
}

function parseWrk(out) {
  const pct = (p) => toMs(new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((s, n) => s + Number(n), 0);
  return {
    rps: Number(/Requests\/sec:\s+([0-9.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50: pct(50),
    p99: pct(99),
    errors: non2xx + socketErrors,
  };
}

function runWrk(base, script, env) {
  return new Promise((resolve, reject) => {
    const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '10s'];
    args.push('--latency', '-s', join(HERE, script), base);
    const child = spawn('wrk', args, {
      env: { ...process.env, PEERS_LUA_DIR: HERE, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    // wrk stops itself after --duration; one that does not is killed a minute later.
    const hung = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(hung);
      if (code !== 0) reject(new Error(`wrk exited with ${code ?? signal}:\n${out}`));
      else resolve(parseWrk(out));
    });
  });
}

async function main() {
  console.log(
    `${etcdVersion}; ${wrkVersion.replace(/\s+Copyright.*/, '')}; node ${process.version}`,
  );
  console.log(
    `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()}`,
  );
  const etcd = await startEtcd();
  const durable = await startRingkv(false);
  const memory = await startRingkv(true);
  const baseline = flags.baseline === undefined ? null : await startRingkv(false, flags.baseline);
  const processes = flags.processes ? await startRingkv(false, ROOT, true) : null;
  console.log(`started etcd ×3 (leader ${etcd}), ${DURABLE} ${durable}, ringkv --memory ${memory}`);
  if (baseline !== null) console.log(`baseline: ${flags.baseline} (its default) at ${baseline}`);
  if (processes !== null) console.log(`ringkv --processes: node n1 at ${processes}`);
  await prefill(etcdPut(etcd));
  await prefill(ringkvPut(durable));
  await prefill(ringkvPut(memory));
  if (baseline !== null) await prefill(ringkvPut(baseline));
  if (processes !== null) await prefill(ringkvPut(processes));

  const systems = [
    { name: DURABLE, base: durable, kind: 'ringkv' },
    { name: 'ringkv --memory', base: memory, kind: 'ringkv' },
    { name: 'etcd 3.4 × 3', base: etcd, kind: 'etcd' },
    ...(baseline === null ? [] : [{ name: 'baseline', base: baseline, kind: 'ringkv' }]),
    ...(processes === null
      ? []
      : [{ name: 'ringkv --processes', base: processes, kind: 'ringkv' }]),
  ];
  const getEnv = { PEERS_KEYS: String(GET_KEYS), PEERS_PREFIX: 'wrk-get-' };
  // ringkv's side runs bench/wrk's own scripts (the same requests the single-system runs make).
  const ringkvGetEnv = { RINGKV_WRK_KEYS: String(GET_KEYS), RINGKV_WRK_PREFIX: 'wrk-get-' };
  const rows = [
    {
      // A fresh key set each round: ringkv's blind PUTs to keys it holds become siblings (etcd
      // overwrites), so later rounds on the same keys would write growing records, not the
      // workload of the first round.
      name: 'PUT',
      ringkv: (round) => [
        '../wrk/put.lua',
        { RINGKV_WRK_KEYS: String(PUT_KEYS), RINGKV_WRK_PREFIX: `wrk-put-${round}-` },
      ],
      etcd: (round) => [
        'etcd-put.lua',
        { PEERS_KEYS: String(PUT_KEYS), PEERS_PREFIX: `wrk-put-${round}-` },
      ],
    },
    {
      name: 'GET R=2 / linearizable',
      ringkv: ['../wrk/get.lua', { ...ringkvGetEnv, RINGKV_WRK_QUERY: '' }],
      etcd: ['etcd-get.lua', { ...getEnv, PEERS_SERIALIZABLE: '0' }],
    },
    {
      name: 'GET R=1 / serializable',
      ringkv: ['../wrk/get.lua', { ...ringkvGetEnv, RINGKV_WRK_QUERY: '?r=1' }],
      etcd: ['etcd-get.lua', { ...getEnv, PEERS_SERIALIZABLE: '1' }],
    },
  ];
  const results = new Map(); // `${row}|${system}` -> runs
  for (let round = 0; round < rounds; round++) {
    for (const row of rows) {
      for (let i = 0; i < systems.length; i++) {
        const system = systems[(i + round) % systems.length];
        const job = row[system.kind];
        const [script, env] = typeof job === 'function' ? job(round + 1) : job;
        const r = await runWrk(system.base, script, env);
        const key = `${row.name}|${system.name}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        process.stderr.write(
          `round ${round + 1} ${row.name.padEnd(24)} ${system.name.padEnd(16)} ${r.rps.toFixed(0)} req/s p99 ${r.p99} ms\n`,
        );
      }
    }
  }

  const cell = (row, system) => {
    const runs = results.get(`${row.name}|${system.name}`);
    return {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      errors: runs.reduce((s, r) => s + r.errors, 0),
    };
  };
  console.log(
    `\nwrk -t${threads} -c${connections} -d${seconds}s, 1 KiB values, ${rounds} round(s) (median), ` +
      `load average after ${loadavg()}`,
  );
  // Ratio columns: [label, numerator system, denominator system].
  const ratios = [
    [`${flags.engine} / etcd`, DURABLE, 'etcd 3.4 × 3'],
    ['memory / etcd', 'ringkv --memory', 'etcd 3.4 × 3'],
    ...(processes === null ? [] : [['processes / etcd', 'ringkv --processes', 'etcd 3.4 × 3']]),
    ...(baseline === null ? [] : [[`${flags.engine} / baseline`, DURABLE, 'baseline']]),
  ];
  const lines = [['', ...systems.map((s) => s.name), ...ratios.map(([label]) => label)]];
  const show = (c) =>
    `${fmt(c.rps)} req/s, p50 ${fmt(c.p50, 1)} p99 ${fmt(c.p99, 1)} ms${c.errors ? `, ${c.errors} errors` : ''}`;
  for (const row of rows) {
    const cells = new Map(systems.map((s) => [s.name, cell(row, s)]));
    const ratio = ([, over, under]) => {
      const [a, b] = [cells.get(over), cells.get(under)];
      return `${fmt(a.rps / b.rps, 2)}× (p99 ${fmt(a.p99 / b.p99, 2)}×)`;
    };
    lines.push([row.name, ...systems.map((s) => show(cells.get(s.name))), ...ratios.map(ratio)]);
  }
  printTable(lines);
}

await run(main, 'etcd, ringkv and wrk');
