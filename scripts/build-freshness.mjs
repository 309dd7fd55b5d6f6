// Whether dist/ was compiled from the sources as they are now, in a checkout: scripts/build.mjs
// ends by writing STAMP_FILE with the time the build started, so a source saved during or after
// a build makes the build stale. What a build reads: src/, bench/profiles/ (copied), package.json
// and the tsconfigs.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Written last by a build, its mtime the build's start. */
export const STAMP_FILE = 'dist/.build-started';

/**
 * How long a caller waits for a build (its lock wait included) before it gives up on it: tsc
 * takes about 6 s on 2 cores, and a build waits for another one for at most 2 minutes.
 */
export const BUILD_TIMEOUT_MS = 5 * 60_000;

const INPUT_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];
const INPUT_DIRS = ['src', 'bench/profiles'];

/** True when `root`/dist holds a whole build and no input changed since that build started. */
export function isBuildFresh(root) {
  const stamp = statSync(join(root, STAMP_FILE), { throwIfNoEntry: false });
  if (stamp === undefined) return false;
  return newestInputMs(root) < stamp.mtimeMs;
}

/** The newest mtime among the build's inputs under `root`. */
function newestInputMs(root) {
  let newest = 0;
  for (const file of INPUT_FILES) {
    newest = Math.max(newest, statSync(join(root, file), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  }
  for (const dir of INPUT_DIRS) {
    // Directories count too: removing or renaming a source changes only its directory.
    newest = Math.max(newest, statSync(join(root, dir)).mtimeMs);
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() && !entry.isDirectory()) continue;
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/**
 * Compiles `root` (its scripts/build.mjs --if-stale, tsc's report on `stdout`) unless its build
 * is fresh; true when dist/ is fresh afterwards. False after a failed build, or one that did not
 * finish within BUILD_TIMEOUT_MS (said on stderr): the caller runs the sources instead, or stops.
 */
export function ensureBuilt(root, stdout = 'inherit') {
  if (isBuildFresh(root)) return true;
  const built = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--if-stale'], {
    cwd: root,
    stdio: ['ignore', stdout, 'inherit'],
    timeout: BUILD_TIMEOUT_MS,
  });
  if (built.error !== undefined) {
    process.stderr.write(`build of ${root} did not finish: ${built.error.message}\n`);
    return false;
  }
  return built.status === 0 && isBuildFresh(root);
}
