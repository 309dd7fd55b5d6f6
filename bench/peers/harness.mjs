// What the peer comparisons (etcd-vs-ringkv.mjs, redis-vs-ringkv.mjs) share: flag checks, binary
// lookup, free ports, child processes that are stopped (SIGTERM, then SIGKILL) and whose temp
// dirs are removed on every way out, waiting for readiness with a deadline, the load average, a
// median, a text table, and the run itself (signals, error report with each child's log tail).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_TIMEOUT_MS, ensureBuilt } from '../../scripts/build-freshness.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
/** Bytes of a child's output kept for an error message. */
const LOG_TAIL_BYTES = 8192;

/** Children still running, and temp dirs to remove, for stopAll. */
export const children = new Set();
export const tempDirs = [];

/** The integer flag `name` in 1..max; exits 2 with a clear message otherwise. */
export function positiveInt(flags, name, max) {
  const n = Number(flags[name]);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    console.error(`--${name} needs an integer in 1..${max}`);
    process.exit(2);
  }
  return n;
}

/** Checkouts builtRingkv compiled or found fresh in this run. */
const builtThisRun = new Set();

/**
 * The script that runs ringkv from `checkout`'s compiled build, as an installed package (and
 * `npm start`) runs it, compiling the checkout first unless its build is fresh: the sources
 * through tsx cost 7-43 % more CPU per request (scripts/run-built.mjs says why). A checkout
 * older than the freshness stamp is compiled whole (once per run), so a baseline runs compiled
 * too.
 */
export function builtRingkv(checkout = ROOT) {
  // Once per checkout and run: its sources do not change while a benchmark runs, and a checkout
  // older than the stamp would otherwise be compiled again for every cluster a round starts.
  if (!builtThisRun.has(checkout)) {
    const stamps = existsSync(join(checkout, 'scripts/build-freshness.mjs'));
    const built = stamps ? ensureBuilt(checkout, 'ignore') : buildWhole(checkout);
    if (!built) throw new Error(`the build of ${checkout} failed`);
    builtThisRun.add(checkout);
  }
  return join(checkout, 'dist/src/cli/main.js');
}

/** A build of a checkout older than the freshness stamp: whole, with no stamp to check. */
function buildWhole(checkout) {
  console.error(`compiling ${checkout} (npm run build) ...`);
  const built = spawnSync(process.execPath, [join(checkout, 'scripts/build.mjs')], {
    cwd: checkout,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: BUILD_TIMEOUT_MS,
  });
  return built.error === undefined && built.status === 0;
}

/** The first line `binary versionArg` prints, or null when the binary is not on PATH. */
export function onPath(binary, versionArg) {
  const r = spawnSync(binary, [versionArg], { encoding: 'utf8' });
  return r.error === undefined ? `${r.stdout}${r.stderr}`.split('\n')[0].trim() : null;
}

/** Exits 0 with `what skipped: … not on PATH (install)` when a version is null. */
export function skipUnlessFound(what, found, install) {
  const missing = Object.entries(found)
    .filter(([, version]) => version === null)
    .map(([name]) => name);
  if (missing.length === 0) return;
  console.log(
    `${what} skipped: ${missing.join(' and ')} not on PATH ` +
      `(Debian: apt-get install ${install}). This script installs nothing.`,
  );
  process.exit(0);
}

/** A port the kernel just handed out: free unless someone takes it before the child binds it. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` every 100 ms until it is true; throws if `child` exits or 60 s pass. */
export async function waitUntil(what, probe, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

/** Spawns a child that stopAll stops; `child.logTail()` is the tail of its output. */
export function start(name, command, args, cwd = ROOT) {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d) => {
    log = (log + d).slice(-LOG_TAIL_BYTES);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  track(child);
  child.logTail = () => log;
  child.label = name;
  return child;
}

/** Makes stopAll stop `child` too (a load generator spawned with its own stdio). */
export function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** SIGTERM to every child, SIGKILL after 30 s; then the temp dirs go. */
export async function stopAll() {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The median; of an even count, the mean of the middle two (not the upper one). */
export function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '?');

/** Prints rows of cells as columns joined by " | ", the first row being the header. */
export function printTable(lines) {
  const widths = lines[0].map((_, i) => Math.max(...lines.map((line) => line[i].length)));
  for (const line of lines) {
    console.log(
      line
        .map((c, i) => c.padEnd(widths[i]))
        .join(' | ')
        .trimEnd(),
    );
  }
}

/**
 * Runs `main`, then stops every child and removes the temp dirs, on success, failure (with each
 * child's log tail) or SIGINT/SIGTERM (exit 130). Sets the exit code.
 */
export async function run(main, stopping) {
  let failed = false;
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`${signal}: stopping ${stopping}`);
      stopAll().finally(() => process.exit(130));
    });
  }
  try {
    await main();
  } catch (error) {
    failed = true;
    // A run cut short by the signal handler's own stop fails; that is no error to report.
    if (interrupted) await new Promise(() => {});
    console.error(error instanceof Error ? error.message : String(error));
    for (const child of children) {
      if (child.logTail) console.error(`--- ${child.label} (last output):\n${child.logTail()}`);
    }
  } finally {
    await stopAll();
  }
  process.exitCode = failed ? 1 : 0;
}
