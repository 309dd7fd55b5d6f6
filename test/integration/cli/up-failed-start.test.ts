/**
 * A `ringkv up` that cannot start leaves nothing behind: not its cluster, not a data directory
 * it made (issue 12: "a failed start creates no data dir").
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startUp } from '../../../src/cli/up.js';

const root = mkdtempSync(join(tmpdir(), 'ringkv-failed-start-'));
const quietIo = { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} };

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts `up` on `dataDir` with its port already taken; resolves once the start has failed. */
async function failToStart(dataDir: string): Promise<void> {
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const failed = startUp(
      { config: { nodes: 1, n: 1, r: 1, w: 1, dataDir }, host: '127.0.0.1', port },
      quietIo,
    );
    // Exit code 5: an address in use, for scripts and for a supervisor to pick another port.
    await expect(failed).rejects.toThrow(/already in use/);
    await expect(failed).rejects.toMatchObject({ exitCode: 5 });
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}

describe('a failed ringkv up', () => {
  it('removes the data directory it created when the port is taken', async () => {
    const dataDir = join(root, 'new-data');
    await failToStart(dataDir);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('keeps a data directory that was there before', async () => {
    const dataDir = mkdtempSync(join(root, 'old-data-'));
    await failToStart(dataDir);
    expect(existsSync(dataDir)).toBe(true);
  });

  it('fails with a StartupError naming --resp when the RESP port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const resp = (taken.address() as { port: number }).port;
    try {
      const plan = {
        config: { nodes: 1, n: 1, r: 1, w: 1, dataDir: null },
        host: '127.0.0.1',
        port: 0,
        resp,
      };
      const failed = startUp(plan, quietIo);
      await expect(failed).rejects.toThrow(/cannot serve RESP on .*\(--resp\)/);
      await expect(failed).rejects.toMatchObject({ exitCode: 5 });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
