// Whether dist/ was compiled from the sources as they are now, in a checkout: scripts/build.mjs
// ends by writing STAMP_FILE with the time the build started, so a source saved during or after
// a build makes the build stale. What a build reads: src/, bench/profiles/ (copied), package.json
// and the tsconfigs.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Written last by a build, its mtime the build's start. */
export const STAMP_FILE = 'dist/.build-started';

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
