#!/usr/bin/env node
// ringkv's RESP front against a local redis-server, in one run (`npm run bench:redis`).
//
// Installs nothing: uses the `redis-server` and `redis-benchmark` binaries when they are on PATH
// (Debian: apt-get install redis-server redis-tools) and says so and exits 0 when one is missing.
// Starts, on loopback with free ports and temporary directories:
//   - redis-server without persistence (`--save '' --appendonly no`), as redis-benchmark figures
//     are usually taken; with --redis-aof, `--appendonly yes --appendfsync everysec` instead;
//   - redis-server with `--appendonly yes --appendfsync always`: a write acknowledged once it is
//     on disk, as ringkv's durable writes are (Redis syncs once per event-loop turn);
//   - `ringkv up --resp 0` with its defaults (durable: the log engine, or --engine lmdb; N=3
//     R=W=2), and `ringkv up --memory`;
//   - the floors (resp-floor.mjs): a bare Map behind ringkv's own RESP parser, on one thread and
//     across one thread hop as ringkv's nodes are, with no replication and nothing else. They
//     are the most a RESP front on Node serves on this machine; --no-floors leaves them out.
// Then runs `redis-benchmark -t set,get -d 1024 -c C -n N -r 100000` against each: SET writes
// random keys of a 100 000-key space, GET reads the same space (mostly the keys SET wrote). The
// systems take turns (order rotated per round), so a noisy neighbour hurts all of them alike.
// Prints, per test, req/s and p50/p99 for each system, each one's share of Redis's req/s (the
// goal for ringkv is ≥ 25 % of Redis without persistence), ringkv's share of the two-thread floor,
// the versions and the machine's load average before and after.
//
//   node bench/peers/redis-vs-ringkv.mjs [--requests 200000] [--clients 50] [--rounds 1] [--engine log|lmdb]
//                                        [--redis-aof] [--no-floors]
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { parseRedisBenchmark } from './redis-benchmark-output.mjs';

/** One redis-benchmark run (both tests) may take this long before it counts as hung. */
const RUN_TIMEOUT_MS = 20 * 60_000;
const KEYSPACE = 100_000;
const VALUE_BYTES = 1024;
const TESTS = ['SET', 'GET'];

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '200000' },
    clients: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
    'redis-aof': { type: 'boolean', default: false },
    'no-floors': { type: 'boolean', default: false },
    engine: { type: 'string', default: 'log' },
  },
});
if (!['log', 'lmdb'].includes(flags.engine)) throw new Error('--engine is log or lmdb');
const DURABLE = `ringkv (${flags.engine})`;
const requests = positiveInt(flags, 'requests', 100_000_000);
const clients = positiveInt(flags, 'clients', 10_000);
const rounds = positiveInt(flags, 'rounds', 20);
const redisAof = flags['redis-aof'];
const floors = !flags['no-floors'];

const serverVersion = onPath('redis-server', '--version');
const benchmarkVersion = onPath('redis-benchmark', '--version');
skipUnlessFound(
  'Redis comparison',
  { 'redis-server': serverVersion, 'redis-benchmark': benchmarkVersion },
  'redis-server redis-tools',
);

/** True once something on the port answers PING with +PONG. */
function pings(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += d;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.on('error', () => done(false));
  });
}

/** redis-server on a free port: `fsync` 'always', 'everysec' (AOF) or null (no persistence). */
async function startRedis(fsync) {
  const dir = mkdtempSync(join(tmpdir(), 'peers-redis-'));
  tempDirs.push(dir);
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(
    ...(fsync === null ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', fsync]),
  );
  const child = start('redis-server', 'redis-server', args);
  await waitUntil('redis-server', () => pings(port), child);
  return port;
}

/** A floor server (resp-floor.mjs) with `threads` threads; its port. */
async function startFloor(threads) {
  builtRingkv(); // the floor imports the compiled parser
  const script = join(ROOT, 'bench/peers/resp-floor.mjs');
  const child = start(`floor ×${threads}`, process.execPath, [
    script,
    '--threads',
    String(threads),
  ]);
  let port = null;
  child.stdout.on('data', () => {
    port ??= Number(/listening on (\d+)/.exec(child.logTail())?.[1] ?? Number.NaN) || null;
  });
  await waitUntil(`floor ×${threads}`, async () => port !== null && (await pings(port)), child);
  return port;
}

/** `ringkv up` on loopback with its HTTP API on a free port and RESP on another; the RESP port. */
async function startRingkv(memory) {
  const dir = mkdtempSync(join(tmpdir(), 'peers-ringkv-'));
  tempDirs.push(dir);
  const args = [builtRingkv(), 'up', '--port', '0', '--host', '127.0.0.1'];
  args.push('--resp', '0');
  args.push(
    ...(memory ? ['--memory'] : ['--data-dir', join(dir, 'data'), '--engine', flags.engine]),
  );
  const child = start(memory ? 'ringkv --memory' : 'ringkv', process.execPath, args);
  let port = null;
  let quorum = null;
  child.stdout.on('data', () => {
    const log = child.logTail();
    port ??= Number(/^\s*redis\s+redis:\/\/[^\s:]+:(\d+)/m.exec(log)?.[1] ?? Number.NaN) || null;
    quorum ??= /^\s*quorum\s+(.+)$/m.exec(log)?.[1]?.trim() ?? null;
  });
  await waitUntil(memory ? 'ringkv up --memory' : 'ringkv up', async () => port !== null, child);
  await waitUntil('ringkv RESP', () => pings(port), child);
  return { port, quorum };
}

function runBenchmark(port) {
  return new Promise((resolve, reject) => {
    const args = ['-h', '127.0.0.1', '-p', String(port), '-t', 'set,get'];
    args.push('-d', String(VALUE_BYTES), '-c', String(clients), '-n', String(requests));
    args.push('-r', String(KEYSPACE));
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const hung = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(hung);
      const tail = out.replace(/[^\n]*\r/g, '').slice(-2000);
      if (code !== 0) reject(new Error(`redis-benchmark exited with ${code ?? signal}:\n${tail}`));
      else {
        try {
          resolve(new Map(parseRedisBenchmark(out).map((t) => [t.test, t])));
        } catch (error) {
          reject(error);
        }
      }
    });
  });
}

async function main() {
  console.log(`${serverVersion}; ${benchmarkVersion}; node ${process.version}`);
  console.log(
    `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()}`,
  );
  const redisLabel = redisAof ? 'redis (AOF everysec)' : 'redis';
  const systems = [
    { name: redisLabel, port: await startRedis(redisAof ? 'everysec' : null) },
    { name: 'redis (fsync always)', port: await startRedis('always') },
  ];
  const durable = await startRingkv(false);
  const memory = await startRingkv(true);
  systems.push(
    { name: DURABLE, port: durable.port },
    { name: 'ringkv --memory', port: memory.port },
  );
  if (floors) {
    systems.push({ name: 'floor ×1', port: await startFloor(1) });
    systems.push({ name: 'floor ×2', port: await startFloor(2) });
  }
  console.log(
    `started ${systems.map((s) => `${s.name} :${s.port}`).join(', ')}; ` +
      `ringkv: ${durable.quorum} (durable), ${memory.quorum} (--memory)`,
  );

  const results = new Map(); // `${test}|${system}` -> runs
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < systems.length; i++) {
      const system = systems[(i + round) % systems.length];
      const byTest = await runBenchmark(system.port);
      for (const test of TESTS) {
        const r = byTest.get(test);
        if (r === undefined) throw new Error(`redis-benchmark printed no ${test} section`);
        const key = `${test}|${system.name}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        process.stderr.write(
          `round ${round + 1} ${test} ${system.name.padEnd(20)} ${r.rps.toFixed(0)} req/s p99 ${r.p99} ms\n`,
        );
      }
    }
  }

  const cell = (test, name) => {
    const runs = results.get(`${test}|${name}`);
    return {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
    };
  };
  const share = (c, base) => `${fmt((100 * c.rps) / base.rps, 1)} %`;
  console.log(
    `\nredis-benchmark -t set,get -d ${VALUE_BYTES} -c ${clients} -n ${requests} -r ${KEYSPACE}, ` +
      `${rounds} round(s) (median); load average after ${loadavg()}`,
  );
  const header = ['system', ...TESTS.flatMap((t) => [t, `${t} / redis`])];
  if (floors) header.push(...TESTS.map((t) => `${t} / floor ×2`));
  const lines = [header];
  for (const { name } of systems) {
    const line = [name];
    for (const test of TESTS) {
      const c = cell(test, name);
      line.push(`${fmt(c.rps)} req/s, p50 ${fmt(c.p50, 2)} p99 ${fmt(c.p99, 2)} ms`);
      line.push(share(c, cell(test, redisLabel)));
    }
    if (floors)
      for (const test of TESTS) line.push(share(cell(test, name), cell(test, 'floor ×2')));
    lines.push(line);
  }
  printTable(lines);
  console.log(
    `req/s shares: of ${redisLabel} (ringkv's goal ≥ 25 %)` +
      (floors ? ', and of floor ×2 (a bare Map across one thread hop, no replication)' : ''),
  );
  const durableShare = TESTS.map(
    (t) => `${t} ${share(cell(t, DURABLE), cell(t, 'redis (fsync always)'))}`,
  );
  console.log(`${DURABLE} as a share of redis (fsync always): ${durableShare.join(', ')}`);
}

await run(main, 'redis-server, ringkv and redis-benchmark');
