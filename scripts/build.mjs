#!/usr/bin/env node
// `npm run build` (and `prepack`): empties dist/, compiles src/ into dist/src/ with
// tsconfig.build.json, then copies the files tsc does not emit but the package reads at run
// time. dist/ mirrors the checkout (dist/src/…, dist/bench/profiles/), so every path a module
// builds from its own import.meta.url finds the same file from sources and from the build.
// Ends by checking that every entry point the package names exists: a build that would pack a
// broken package fails here, not on a user's machine, and by stamping dist/ with the time the
// build started (build-freshness.mjs).
//
// One build of a checkout runs at a time (build-lock.mjs: dist.lock, waited for up to 2 min).
//
// With --if-stale (scripts/run-built.mjs, so `npm start`): does nothing when dist/ is fresh, and
// a failed build exits 0 having said so (the caller then runs the sources through tsx).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_TIMEOUT_MS, isBuildFresh, STAMP_FILE } from './build-freshness.mjs';
import { acquireBuildLock, LOCK_FILE, LOCK_WAIT_MS } from './build-lock.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const ifStale = process.argv.includes('--if-stale');

/** Ends a failed build: an error, or with --if-stale a note and success. */
function fail(message) {
  console.error(`build: ${message}`);
  if (ifStale) console.error('build: the sources will run through tsx instead (slower)');
  process.exit(ifStale ? 0 : 1);
}

if (ifStale && isBuildFresh(root)) process.exit(0);
// One build at a time (build-lock.mjs); a build that waited may find the other one's fresh.
const release = await acquireBuildLock(root);
if (release === null) fail(`another build held ${LOCK_FILE} for over ${LOCK_WAIT_MS / 1000} s`);
process.on('exit', release);
if (ifStale && isBuildFresh(root)) process.exit(0);
if (ifStale) process.stderr.write('ringkv: compiling the sources into dist/ (once per change)\n');
const started = new Date();

/** Non-TypeScript files the built package needs, from the checkout to the same place in dist/. */
const ASSETS = [
  // The dashboard page, its script and stylesheet (server/static-assets.ts serves them).
  { from: 'src/server/dashboard', pattern: /\.(html|js|css)$/ },
  // The latency profiles `ringkv bench staleness --profile lan-ssd` finds by name.
  { from: 'bench/profiles', pattern: /\.json$/ },
];

/** Files that must exist after the build: the package's exports, bin target and worker. */
const REQUIRED = [
  'dist/src/index.js',
  'dist/src/index.d.ts',
  'dist/src/cli/main.js',
  'dist/src/runtime/worker-main.js',
  'dist/src/server/dashboard/index.html',
  'dist/bench/profiles/lan-ssd.json',
];

rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// Under the deadline its callers keep (ensureBuilt), less the 2 minutes a build may wait for
// the lock: a tsc that hangs ends the build instead of holding the lock.
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
  timeout: BUILD_TIMEOUT_MS - LOCK_WAIT_MS,
});
if (compiled.error !== undefined) fail(`tsc did not finish: ${compiled.error.message}`);
if (compiled.status !== 0) fail(`tsc failed (exit ${compiled.status ?? compiled.signal})`);

for (const { from, pattern } of ASSETS) {
  const names = readdirSync(join(root, from)).filter((name) => pattern.test(name));
  if (names.length === 0) throw new Error(`build: no assets in ${from}`);
  for (const name of names) cpSync(join(root, from, name), join(dist, from, name));
}

const missing = REQUIRED.filter((path) => !existsSync(join(root, path)));
if (missing.length > 0) fail(`missing after the build: ${missing.join(', ')}`);

const stamp = join(root, STAMP_FILE);
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
