/**
 * One process per data directory: `node.lock` holds the owner's pid, created exclusively.
 * Neither engine stops a second process on its own (lmdb lets several open one environment; the
 * log engine takes no lock), so nothing else would stop a second `ringkv node` from serving the
 * same replica under the same actor, issuing the same dots twice. A lock whose pid no longer
 * runs (left by kill -9) is stale and taken over.
 * `ringkv node` and a durable local cluster (`ringkv up`, startCluster) both take it.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../errors.js';

export const LOCK_FILE = 'node.lock';

export class DataDirLock {
  private released = false;

  private constructor(readonly file: string) {}

  /** Takes the lock of `dir` for this process; a ValidationError if a live process holds it. */
  static acquire(dir: string): DataDirLock {
    const file = path.join(dir, LOCK_FILE);
    // Two tries: the second after removing a stale lock. A racer that wins in between keeps it.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (tryCreate(file)) return new DataDirLock(file);
      const holder = readPid(file);
      // Our own pid: another cluster in this process holds it (a lock is released on close).
      if (holder !== null && (holder === process.pid || isRunning(holder))) {
        throw new ValidationError(
          `${dir} is in use by process ${holder} (${file}): stop that node first, ` +
            'or give this one another --data-dir',
        );
      }
      removeIfPresent(file);
    }
    throw new ValidationError(`${dir} is being taken by another process (${file}); try again`);
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (readPid(this.file) === process.pid) removeIfPresent(this.file);
  }
}

function tryCreate(file: string): boolean {
  try {
    writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readPid(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
