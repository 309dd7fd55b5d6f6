/**
 * scripts/build-lock.mjs: one build of a checkout at a time. A live holder makes the next build
 * wait (up to its deadline), a holder that died leaves a lock that is taken over, and release
 * frees it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireBuildLock, LOCK_FILE } from '../../scripts/build-lock.mjs';

const roots: string[] = [];
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), 'ringkv-build-lock-'));
  roots.push(root);
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('acquireBuildLock', () => {
  it('takes a free lock with this pid, and release frees it', async () => {
    const root = checkout();
    const release = await acquireBuildLock(root);
    expect(release).not.toBeNull();
    expect(readFileSync(join(root, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release!();
    expect(existsSync(join(root, LOCK_FILE))).toBe(false);
  });

  it('waits for a live holder until its deadline, then gives up', async () => {
    const root = checkout();
    const release = await acquireBuildLock(root);
    const started = Date.now();
    expect(await acquireBuildLock(root, { waitMs: 300, pollMs: 50 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    release!();
    const next = await acquireBuildLock(root, { waitMs: 300, pollMs: 50 });
    expect(next).not.toBeNull();
    next!();
  });

  it('gets the lock as soon as a live holder releases it', async () => {
    const root = checkout();
    const release = await acquireBuildLock(root);
    setTimeout(() => release!(), 100);
    const next = await acquireBuildLock(root, { waitMs: 5_000, pollMs: 20 });
    expect(next).not.toBeNull();
    next!();
  });

  it('takes over the lock of a build that died', async () => {
    const root = checkout();
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) =>
      child.on('exit', () => resolve(child.pid!)),
    );
    writeFileSync(join(root, LOCK_FILE), `${deadPid}\n`);
    const release = await acquireBuildLock(root, { waitMs: 1_000, pollMs: 20 });
    expect(release).not.toBeNull();
    expect(readFileSync(join(root, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release!();
  });
});
