/**
 * connect() against the real `ringkv up` process (node bin/ringkv.mjs), as a user would run it:
 * the data path end to end, then the process killed under a connected client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type RemoteClient, TimeoutError, UnavailableError } from '../../../src/index.js';
import { awaitUrl } from '../up-url.js';

const BIN = fileURLToPath(new URL('../../../bin/ringkv.mjs', import.meta.url));

describe('connect() against ringkv up', () => {
  let up: ChildProcess;
  let db: RemoteClient;

  beforeAll(async () => {
    up = spawn(process.execPath, [BIN, 'up', '--memory', '--port', '0', '--nodes', '3'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    db = await connect({ nodes: [await awaitUrl(up)], timeoutMs: 1500 });
  });

  afterAll(async () => {
    await db?.close();
    if (up.exitCode === null) up.kill('SIGKILL');
  });

  it('round-trips values, siblings and contexts, then settles once the process is gone', async () => {
    await db.put('greeting', 'hello', { w: 3 });
    await db.put('greeting', 'hi', { w: 3 });
    const both = await db.get('greeting', { r: 3 });
    expect(both.strings().sort()).toEqual(['hello', 'hi']);
    await db.put('greeting', 'hey', { context: both.context, w: 3 });
    const one = await db.get('greeting', { r: 3 });
    expect(one.strings()).toEqual(['hey']);
    await db.delete('greeting', { context: one.context });
    expect((await db.get('greeting')).found).toBe(false);
    expect((await db.status()).nodes).toHaveLength(3);

    up.kill('SIGKILL');
    await new Promise((resolve) => up.once('exit', resolve));
    const startMs = performance.now();
    const error = await db.get('greeting').catch((e) => e);
    expect(error instanceof UnavailableError || error instanceof TimeoutError).toBe(true);
    expect(performance.now() - startMs).toBeLessThan(1500 + 1000 + 500);
  });
});
