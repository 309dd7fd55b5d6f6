/**
 * `ringkv node` flag checks for --join that fail before anything starts: no socket, no data dir
 * is touched (toPlan refuses first), so these run in-process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/cli/exit-codes.js';
import { type NodeFlags, runNode } from '../../src/cli/node.js';
import { USAGE_EXIT_CODE } from '../../src/cli/up-options.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ringkv-join-args-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function flags(extra: Partial<NodeFlags>): NodeFlags {
  return {
    id: 'n6',
    listen: '127.0.0.1:0',
    http: '127.0.0.1:0',
    dataDir: join(root, 'n6'),
    insecure: true,
    n: 3,
    r: 2,
    w: 2,
    clusterName: 'ringkv',
    drainMs: 1000,
    ...extra,
  };
}

const io = { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} };

async function refusal(extra: Partial<NodeFlags>): Promise<StartupError> {
  const error = await runNode(flags(extra), io).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StartupError);
  expect((error as StartupError).exitCode).toBe(USAGE_EXIT_CODE);
  expect(existsSync(join(root, 'n6'))).toBe(false); // refused before the data dir was made
  return error as StartupError;
}

describe('ringkv node --join flags', () => {
  it('refuses --join together with --initial-cluster', async () => {
    const error = await refusal({ join: '127.0.0.1:7001', initialCluster: 'n6=127.0.0.1:7006' });
    expect(error.message).toMatch(/exactly one of --initial-cluster .* and --join/);
  });

  it('refuses neither --join nor --initial-cluster', async () => {
    expect((await refusal({})).message).toMatch(/exactly one of --initial-cluster/);
  });

  it.each([
    ['no port', '127.0.0.1'],
    ['port 0', '127.0.0.1:0'],
    ['port out of range', 'host:70000'],
    ['IPv6 without brackets', '::1:7001'],
  ])('refuses a --join address with %s', async (_what, address) => {
    expect((await refusal({ join: address })).message).toMatch(/--join must be HOST:PORT/);
  });

  it('refuses --join on a wildcard --listen without --advertise', async () => {
    const error = await refusal({ join: '127.0.0.1:7001', listen: '0.0.0.0:7006' });
    expect(error.message).toMatch(/give --advertise/);
  });
});
