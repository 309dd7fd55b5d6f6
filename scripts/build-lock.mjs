// One build of a checkout at a time: scripts/build.mjs empties dist/ before it compiles, so two
// builds at once (two `npm start`s on a stale build, or `npm start` beside `npm run build`)
// could delete files the other is writing or loading. The lock is a file created exclusively
// beside dist/ that holds the builder's pid; a lock whose pid is gone (a build killed) is taken
// over. Waiting has a deadline: a caller that cannot get the lock in time is told so.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'dist.lock';

/** How long a build waits for another one by default, and how often it looks. */
export const LOCK_WAIT_MS = 120_000;
const POLL_MS = 200;

/**
 * Takes the build lock of `root`, waiting up to `waitMs` for a live holder; resolves with a
 * function that releases it, or null when the deadline passed first.
 */
export async function acquireBuildLock(root, { waitMs = LOCK_WAIT_MS, pollMs = POLL_MS } = {}) {
  const path = join(root, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(path)) return () => rmSync(path, { force: true });
    const holder = holderOf(path);
    if (holder !== null && !isAlive(holder)) {
      rmSync(path, { force: true }); // a build that died: its lock goes
      continue;
    }
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function tryCreate(path) {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (error) {
    if (error.code === 'EEXIST') return false;
    throw error;
  }
}

/** The pid in the lock file; null when it is gone or not written yet. */
function holderOf(path) {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM'; // alive, someone else's
  }
}
