#!/usr/bin/env node
// Overload figure (issue 14, goal 3): how `ringkv up` behaves when far more PUTs arrive than it
// can serve. In one run, on one machine:
//
//   1. unloaded: a probe alone (PROBE connections of 1 KiB PUTs, closed loop) → p99 of 200s;
//   2. overload: `wrk -c CONNECTIONS` of 1 KiB PUTs (bench/wrk/put.lua, --timeout 2s) and the
//      same probe beside it → p99 of the admitted (200) and of the refused (503) requests as the
//      probe sees them, whether every 503 carried Retry-After, wrk's throughput, timeouts and
//      non-2xx count, and the growth of the server's resident memory (VmRSS of the `up` process,
//      sampled every 100 ms, max during the phase minus the value just before it), beside the
//      bytes the nodes' storage appended meanwhile (the log engine keeps its data in the heap:
//      that much of the growth is the admitted PUTs' data, not the overload's cost).
//
// The probe is a plain keep-alive client that does not honour Retry-After (it asks again at
// once), like wrk: the refusal latency is measured under the worst client behaviour. With
// --polite the flood is Node clients that wait Retry-After after a 503 instead of wrk (the
// generator then shares the machine's cores with the server, like wrk does).
//
// Usage: node bench/overload/run.mjs [--memory] [--connections 2000] [--seconds 15]
//        [--probe 16] [--keys 100000] [--before <checkout>] [--polite] [--rounds 1]
//        [--cold] [--no-floor]
// Each round also floods a bare node:http server that refuses everything (refuse-all.mjs): the
// p99 of its 503s is the floor no front on Node's HTTP stack can beat on this machine (skip it
// with --no-floor). --cold starts the flood together with the cluster, before any unloaded
// request (a restart under load), and measures the unloaded p99 after the flood instead.
// --before runs the same phases first against another checkout (e.g. the main branch, built the
// same way: its compiled build, harness.mjs builtRingkv), so before and after come from one run
// on one machine.
// --rounds N repeats everything N times (with --before, the order alternates per round) and
// prints the median of each figure: one overload run on a shared 2-core machine has measured
// an admitted p99 of 312 ms and of 1 954 ms for the same code, minutes apart.
// Needs wrk on PATH (Debian: apt-get install wrk); installs nothing. Starts and stops its own
// cluster on a free port (SIGTERM, then SIGKILL after 30 s). Prints a table and one JSON line.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { builtRingkv, loadavg, median, positiveInt } from '../peers/harness.mjs';

const { values: args } = parseArgs({
  options: {
    memory: { type: 'boolean', default: false },
    connections: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '15' },
    probe: { type: 'string', default: '16' },
    keys: { type: 'string', default: '100000' },
    before: { type: 'string' },
    polite: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '1' },
    'no-floor': { type: 'boolean', default: false },
    cold: { type: 'boolean', default: false },
  },
});
const CONNECTIONS = Number(args.connections);
const SECONDS = Number(args.seconds);
const PROBE = Number(args.probe);
const KEYS = Number(args.keys);
const ROUNDS = positiveInt(args, 'rounds', 20);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Like wrk's default: a request unanswered this long counts as a client timeout. */
const CLIENT_TIMEOUT_MS = 2_000;
/** Latency samples kept per class at most (a bounded buffer; later samples are dropped). */
const SAMPLES_MAX = 1_000_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const BODY = Buffer.alloc(1024, 'v');

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk not found (Debian: apt-get install wrk); nothing was run');
  process.exit(1);
}

/**
 * Spawns `node args…` and resolves once its stdout matches `ready`, with the child and the
 * match; rejects if it exits first or is not ready within READY_TIMEOUT_MS.
 */
function spawnReady(what, args, cwd, ready) {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${what} not ready in ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout.resume();
        resolve({ child, match });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${out}`));
    });
  });
}

/** Starts the floor server (refuse-all.mjs) on a free port; resolves with its URL. */
async function startFloor() {
  const script = join(ROOT, 'bench/overload/refuse-all.mjs');
  const { child, match } = await spawnReady('floor server', [script], ROOT, /listening on (\d+)/);
  return { child, url: `http://127.0.0.1:${match[1]}` };
}

/**
 * The same flood and probe against the floor server, which refuses everything and does nothing
 * else: the p99 of its 503s is the least a front on Node's HTTP stack answers in here.
 */
async function measureFloor() {
  const { child, url } = await startFloor();
  try {
    const cpuBefore = cpuSeconds(child.pid);
    const [flood, probed] = await Promise.all([
      args.polite ? politeFlood(url) : wrk(url, CONNECTIONS, SECONDS),
      probe(url, PROBE, performance.now() + SECONDS * 1000),
    ]);
    const cpu = cpuSeconds(child.pid) - cpuBefore;
    const refusals = flood.requests + probed.refused.count;
    return {
      refusedP99Ms: summary(probed, SECONDS).refusedP99Ms,
      refusalsPerSecond: Math.round(refusals / SECONDS),
      cpuUsPerRefusal: Math.round((cpu * 1e6) / Math.max(1, refusals)),
      timeouts: flood.timeouts,
    };
  } finally {
    await stop(child);
  }
}

/** a / b to two decimals; null when either is missing or b is 0. */
function ratioOf(a, b) {
  if (a === null || b === null || a === undefined || b === undefined || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

/** CPU seconds (user + system) `pid` has used so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: clock ticks (USER_HZ 100)
}

/** Starts `ringkv up` on a free port; resolves with its URL and pid. */
async function startUp(root, dataDir) {
  const storage = dataDir === null ? ['--memory'] : ['--data-dir', dataDir];
  const args = [builtRingkv(root), 'up', '--port', '0', '--host', '127.0.0.1', ...storage];
  const { child, match } = await spawnReady('ringkv up', args, root, /ringkv is up at (\S+)/);
  return { child, url: match[1] };
}

function stop(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The machine's TCP listen-queue overflows so far (connections a full accept queue dropped). */
function listenOverflows() {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const names = lines[0]?.split(' ') ?? [];
  const values = lines[1]?.split(' ') ?? [];
  return Number(values[names.indexOf('ListenOverflows')] ?? 'NaN');
}

/**
 * Resident memory of `pid` in MB: all of it, and the anonymous part (heaps, buffers) apart from
 * the file-backed part (with --engine lmdb, its memory map of the data it holds, which the
 * kernel can drop; the default log engine holds its records in the heap).
 */
function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN') / 1024;
  return { total: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile') };
}

/** Bounded latency samples of one class. */
class Samples {
  values = [];
  count = 0;
  add(ms) {
    this.count++;
    if (this.values.length < SAMPLES_MAX) this.values.push(ms);
  }
  quantile(q) {
    if (this.values.length === 0) return null;
    const sorted = Float64Array.from(this.values).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}

/**
 * A closed-loop probe: `connections` keep-alive connections of PUTs until `stopAt`. A polite one
 * waits the Retry-After of a 503 before that connection asks again.
 */
async function probe(url, connections, stopAt, polite = false) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const result = {
    ok: new Samples(),
    refused: new Samples(),
    other: new Samples(),
    timeouts: 0,
    errors: 0,
    refusedWithoutRetryAfter: 0,
  };
  let next = 0;
  const once = () =>
    new Promise((resolve) => {
      const key = `probe-${next++ % KEYS}`;
      const start = performance.now();
      const req = http.request(`${url}/kv/${key}`, {
        method: 'PUT',
        agent,
        timeout: CLIENT_TIMEOUT_MS,
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          const ms = performance.now() - start;
          if (res.statusCode === 200) result.ok.add(ms);
          else if (res.statusCode === 503) {
            result.refused.add(ms);
            const retryAfter = res.headers['retry-after'];
            if (retryAfter === undefined) result.refusedWithoutRetryAfter++;
            resolve(Number(retryAfter ?? 0));
            return;
          } else result.other.add(ms);
          resolve(0);
        });
      });
      req.on('timeout', () => {
        result.timeouts++;
        req.destroy(new Error('timeout'));
      });
      req.on('error', () => {
        result.errors++;
        resolve(0);
      });
      req.end(BODY);
    });
  const loop = async () => {
    while (performance.now() < stopAt) {
      const retryAfterSeconds = await once();
      const waitMs = Math.min(retryAfterSeconds * 1000, stopAt - performance.now());
      if (polite && waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  agent.destroy();
  return result;
}

/** The flood as clients that honour Retry-After (Node, not wrk), in wrk's report shape. */
async function politeFlood(url) {
  const result = await probe(url, CONNECTIONS, performance.now() + SECONDS * 1000, true);
  const requests = result.ok.count + result.refused.count + result.other.count;
  return {
    requestsPerSecond: Math.round(requests / SECONDS),
    requests,
    non2xx: result.refused.count + result.other.count,
    timeouts: result.timeouts,
    connectErrors: result.errors,
    p50Ms: null,
    p99Ms: null,
    polite: summary(result, SECONDS),
  };
}

function wrk(url, connections, seconds) {
  return new Promise((resolve) => {
    const child = spawn(
      'wrk',
      [
        '-t2',
        `-c${connections}`,
        `-d${seconds}s`,
        '--timeout',
        '2s',
        '--latency',
        '-s',
        'bench/wrk/put.lua',
        url,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, RINGKV_WRK_KEYS: String(KEYS), RINGKV_WRK_PREFIX: 'overload-' },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.once('exit', () => resolve(parseWrk(out)));
  });
}

function parseWrk(out) {
  const number = (re) => Number(re.exec(out)?.[1] ?? 'NaN');
  const toMs = (text) => {
    const m = /([\d.]+)(us|ms|s)/.exec(text ?? '');
    if (!m) return null;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    requests: number(/(\d+) requests in/),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    timeouts: Number(/timeout (\d+)/.exec(out)?.[1] ?? 0),
    connectErrors: Number(/connect (\d+)/.exec(out)?.[1] ?? 0),
    p50Ms: toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99Ms: toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
    raw: out,
  };
}

/** The text of /metrics ('' when it cannot be read). */
function scrape(url) {
  return fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })
    .then((res) => res.text())
    .catch(() => '');
}

/**
 * Bytes the nodes' storage appended so far (the log engine's frames: the data written, encoded;
 * 0 on lmdb and in memory, or on a checkout without the series).
 */
async function appendedBytes(url) {
  let sum = 0;
  for (const line of (await scrape(url)).split('\n')) {
    const match = /^ringkv_node_storage_appended_bytes_total(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (match) sum += Number(match[1]);
  }
  return sum;
}

/** The admission series of /metrics right after the flood (none on a checkout without them). */
async function admissionSeries(url) {
  const text = await scrape(url);
  const series = {};
  for (const line of text.split('\n')) {
    const match = /^ringkv_admission_(\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) series[match[1]] = Number(match[2]);
  }
  return series;
}

function summary(result, seconds) {
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    okPerSecond: Math.round(result.ok.count / seconds),
    okP50Ms: round(result.ok.quantile(0.5)),
    okP99Ms: round(result.ok.quantile(0.99)),
    refused: result.refused.count,
    refusedP99Ms: round(result.refused.quantile(0.99)),
    refusedMaxMs: round(result.refused.quantile(1)),
    refusedWithoutRetryAfter: result.refusedWithoutRetryAfter,
    other: result.other.count,
    timeouts: result.timeouts,
    errors: result.errors,
  };
}

async function main() {
  const roots = args.before === undefined ? [ROOT] : [args.before, ROOT];
  /** Reports per root, in round order. */
  const byRoot = new Map(roots.map((root) => [root, []]));
  const floors = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? roots : [...roots].reverse();
    const reports = [];
    for (const root of order) {
      if (ROUNDS > 1) console.log(`--- round ${round + 1} of ${ROUNDS}`);
      const report = await measure(root);
      print(report);
      byRoot.get(root).push(report);
      reports.push(report);
    }
    if (!args['no-floor']) {
      const floor = await measureFloor();
      printFloor(floor, reports);
      floors.push(floor);
    }
  }
  const floorMedian = (pick) => (floors.length === 0 ? null : median(floors.map(pick)));
  const floorP99 = floorMedian((f) => f.refusedP99Ms);
  const summaries = roots.map((root) => {
    const medians = medianOf(byRoot.get(root));
    return {
      ...medians,
      'floor: p99 of 503s, bare node:http (ms)': floorP99,
      'p99 of 503s / floor': ratioOf(medians['p99 of 503s (ms)'], floorP99),
    };
  });
  if (ROUNDS > 1) {
    for (const [i, root] of roots.entries()) {
      console.log(`=== median of ${ROUNDS} rounds, ${root}`);
      for (const [label, value] of Object.entries(summaries[i])) {
        console.log(`${label.padEnd(44)} ${value}`);
      }
    }
  }
  if (roots.length === 2) {
    const [before, after] = summaries;
    console.log(ROUNDS > 1 ? '=== before → after (medians)' : '=== before → after');
    for (const label of Object.keys(before)) {
      console.log(`${label.padEnd(44)} ${before[label]} → ${after[label]}`);
    }
  }
}

/** The figures compared across runs, each the median over `reports`. */
function medianOf(reports) {
  // A figure missing from a run (no 503 seen, say) is left out; missing from all, it is null.
  const of = (pick) => {
    const values = reports.map(pick).filter((v) => typeof v === 'number');
    return values.length === 0 ? null : Math.round(median(values) * 100) / 100;
  };
  return {
    'p99 admitted / unloaded p99': of((r) => r.p99Ratio),
    'unloaded p99 (ms)': of((r) => r.unloaded.okP99Ms),
    'p99 of admitted (ms)': of((r) => r.overload.okP99Ms),
    'p99 of 503s (ms)': of((r) => r.overload.refusedP99Ms),
    'client timeouts (wrk)': of((r) => r.wrk.timeouts),
    'RSS growth (MB)': of((r) => r.rssGrowthMb),
    'anonymous RSS growth (MB)': of((r) => r.anonGrowthMb),
    'data the flood wrote, encoded (MB)': of((r) => r.appendedMb),
    'anonymous growth less that data (MB)': of((r) => r.anonGrowthMb - (r.appendedMb ?? 0)),
    'wrk req/s (all replies)': of((r) => r.wrk.requestsPerSecond),
    'admitted PUT/s (wrk 2xx + probe 200s)': of((r) => r.admittedPerSecond),
  };
}

async function measure(root) {
  const dataDir = args.memory ? null : mkdtempSync(join(tmpdir(), 'ringkv-overload-'));
  const { child, url } = await startUp(root, dataDir);
  try {
    // Warm up (JIT, storage) so the unloaded figure is not a cold start. With --cold the
    // flood meets the cluster as it starts (a restart under load: the admission controller has
    // seen no unloaded request yet), and the unloaded figure is taken after it.
    const measureUnloaded = async () => {
      await probe(url, PROBE, performance.now() + 3_000);
      return summary(await probe(url, PROBE, performance.now() + SECONDS * 1000), SECONDS);
    };
    let unloaded = args.cold ? null : await measureUnloaded();
    const appendedBefore = await appendedBytes(url);
    const rssBefore = rssMb(child.pid);
    const rssMax = { ...rssBefore };
    const sampler = setInterval(() => {
      const now = rssMb(child.pid);
      for (const part of ['total', 'anon', 'file'])
        rssMax[part] = Math.max(rssMax[part], now[part]);
    }, 100);
    const overflowsBefore = listenOverflows();
    const loadBefore = loadavg();
    const [flood, probed] = await Promise.all([
      args.polite ? politeFlood(url) : wrk(url, CONNECTIONS, SECONDS),
      probe(url, PROBE, performance.now() + SECONDS * 1000),
    ]);
    clearInterval(sampler);
    const overflows = listenOverflows() - overflowsBefore;
    const admission = await admissionSeries(url);
    const appendedMb = (await appendedBytes(url)) - appendedBefore;
    const overload = summary(probed, SECONDS);
    unloaded ??= await measureUnloaded();
    const loadAfter = loadavg();
    const admitted = flood.requests - flood.non2xx + probed.ok.count;
    return {
      root,
      admittedPerSecond: Math.round(admitted / SECONDS),
      storage: args.memory ? 'memory' : 'durable',
      connections: CONNECTIONS,
      seconds: SECONDS,
      cores: (await import('node:os')).cpus().length,
      loadAverage: { before: loadBefore, after: loadAfter },
      unloaded,
      overload,
      wrk: { ...flood, raw: undefined },
      admission,
      listenOverflows: overflows,
      rssBeforeMb: Math.round(rssBefore.total),
      rssMaxMb: Math.round(rssMax.total),
      rssGrowthMb: Math.round(rssMax.total - rssBefore.total),
      anonGrowthMb: Math.round(rssMax.anon - rssBefore.anon),
      fileGrowthMb: Math.round(rssMax.file - rssBefore.file),
      appendedMb: Math.round(appendedMb / 2 ** 20),
      p99Ratio: ratioOf(overload.okP99Ms, unloaded.okP99Ms),
    };
  } finally {
    await stop(child);
    if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The floor's figures, and each ringkv run's 503 p99 of this round against it. */
function printFloor(floor, reports) {
  const line = (label, value) => console.log(`${label.padEnd(44)} ${value}`);
  console.log('=== floor: the same flood against a bare node:http server that refuses everything');
  line('p99 of its 503s (probe)', `${floor.refusedP99Ms} ms`);
  line('refusals/s, CPU per refusal', `${floor.refusalsPerSecond}, ${floor.cpuUsPerRefusal} µs`);
  line('wrk timeouts', floor.timeouts);
  for (const r of reports) {
    const ratio = ratioOf(r.overload.refusedP99Ms, floor.refusedP99Ms);
    line(`ringkv's 503 p99 / floor (${r.root})`, ratio === null ? 'n/a' : `${ratio}×`);
  }
  console.log(JSON.stringify({ floor }));
}

function print(r) {
  const line = (label, value) => console.log(`${label.padEnd(44)} ${value}`);
  const flood = args.polite ? 'clients honouring Retry-After' : 'wrk';
  const start = args.cold ? ', flood from the start (--cold)' : '';
  console.log(
    `=== overload: ${r.connections} connections of 1 KiB PUTs (${flood}), ${r.seconds} s, ${r.storage}${start}, ${r.root}`,
  );
  if (r.wrk.polite) line('flood itself (polite clients)', JSON.stringify(r.wrk.polite));
  line('machine', `${r.cores} cores, load ${r.loadAverage.before} → ${r.loadAverage.after}`);
  line('unloaded p50 / p99 (probe, 200s)', `${r.unloaded.okP50Ms} / ${r.unloaded.okP99Ms} ms`);
  line(
    'overload p50 / p99 of admitted (probe, 200s)',
    `${r.overload.okP50Ms} / ${r.overload.okP99Ms} ms`,
  );
  line('  ratio p99 admitted / unloaded', `${r.p99Ratio} (goal ≤ 2)`);
  line(
    'overload p99 / max of refusals (probe, 503s)',
    `${r.overload.refusedP99Ms} / ${r.overload.refusedMaxMs} ms (goal ≤ 50)`,
  );
  line(
    'probe 503s, without Retry-After',
    `${r.overload.refused}, ${r.overload.refusedWithoutRetryAfter}`,
  );
  line(
    'probe timeouts (2 s) / errors / other',
    `${r.overload.timeouts} / ${r.overload.errors} / ${r.overload.other}`,
  );
  line(
    'wrk req/s, non-2xx, timeouts',
    `${r.wrk.requestsPerSecond}, ${r.wrk.non2xx}, ${r.wrk.timeouts}`,
  );
  line('admitted PUT/s (wrk 2xx + probe 200s)', r.admittedPerSecond);
  line('wrk p50 / p99 (all replies)', `${r.wrk.p50Ms} / ${r.wrk.p99Ms} ms`);
  line('admission after the flood', JSON.stringify(r.admission));
  line('listen-queue overflows (whole machine)', r.listenOverflows);
  line(
    'RSS before → max (growth)',
    `${r.rssBeforeMb} → ${r.rssMaxMb} MB (+${r.rssGrowthMb}, goal < 200)`,
  );
  line(
    '  of which anonymous (heaps) / file (mapped files)',
    `+${r.anonGrowthMb} / +${r.fileGrowthMb} MB`,
  );
  // The log engine keeps what it holds in the heap: every admitted PUT adds a sibling or a
  // record on 3 replicas. What it appended is that data, encoded (in memory it takes more).
  line('  data the flood wrote (storage appended)', `${r.appendedMb} MB`);
  line('  anonymous growth less that data', `+${r.anonGrowthMb - r.appendedMb} MB`);
  console.log(JSON.stringify(r));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
