import path from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError, StartupError, startupExitCode } from '../../src/cli/exit-codes.js';
import { buildProgram, exitCodeFor } from '../../src/cli/main.js';
import type { UpPlan } from '../../src/cli/up-options.js';
import { ValidationError } from '../../src/errors.js';

/** Parses `ringkv <args>` with a fake `up` runner: no cluster is ever started. */
async function parse(args: string[]): Promise<{ plans: UpPlan[]; error: unknown; stderr: string }> {
  const plans: UpPlan[] = [];
  let stderr = '';
  const program = buildProgram({
    runUp: async (plan) => {
      plans.push(plan);
    },
    output: {
      writeOut: () => {},
      writeErr: (text) => {
        stderr += text;
      },
    },
  }).exitOverride();
  let error: unknown = null;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (caught) {
    error = caught;
  }
  return { plans, error, stderr };
}

describe('ringkv up arguments', () => {
  it('defaults to 5 nodes, N=3 R=2 W=2, durable in ./ringkv-data, on 127.0.0.1:8080', async () => {
    const { plans, error } = await parse(['up']);
    expect(error).toBeNull();
    expect(plans).toEqual([
      {
        config: { nodes: 5, n: 3, r: 2, w: 2, dataDir: path.resolve('ringkv-data') },
        host: '127.0.0.1',
        port: 8080,
        adminToken: null,
        https: null,
      },
    ]);
  });

  it('--resp PORT serves RESP too (off by default); a bad port is a usage error', async () => {
    expect((await parse(['up', '--resp', '6380'])).plans[0]?.resp).toBe(6380);
    expect((await parse(['up', '--resp', '0'])).plans[0]?.resp).toBe(0);
    const bad = await parse(['up', '--resp', '70000']);
    expect(bad.plans).toEqual([]);
    expect(exitCodeFor(bad.error)).toBe(2);
  });

  it('--read-speculate-ms sets the read path (absent: the config default); bad is a usage error', async () => {
    expect((await parse(['up', '--read-speculate-ms', '0'])).plans[0]?.config.readSpeculateMs).toBe(
      0,
    );
    expect(
      (await parse(['up', '--read-speculate-ms', '50'])).plans[0]?.config.readSpeculateMs,
    ).toBe(50);
    expect((await parse(['up'])).plans[0]?.config).not.toHaveProperty('readSpeculateMs');
    for (const bad of ['-1', 'soon', '600001']) {
      const refused = await parse(['up', '--read-speculate-ms', bad]);
      expect(refused.plans).toEqual([]);
      expect(exitCodeFor(refused.error)).toBe(2);
    }
  });

  it('--node-threads sets how many threads the nodes share; more than --nodes, or with --processes, is a usage error', async () => {
    expect((await parse(['up', '--node-threads', '2'])).plans[0]?.config.nodeThreads).toBe(2);
    expect((await parse(['up'])).plans[0]?.config).not.toHaveProperty('nodeThreads');
    for (const bad of [
      ['--node-threads', '0'],
      ['--node-threads', 'two'],
      ['--node-threads', '6'],
      ['--nodes', '3', '--node-threads', '4'],
      ['--node-threads', '2', '--processes'],
    ]) {
      const refused = await parse(['up', ...bad]);
      expect(refused.plans).toEqual([]);
      expect(exitCodeFor(refused.error)).toBe(2);
    }
  });

  it('--engine picks the durable engine of new node directories; a bad name or --memory is a usage error', async () => {
    expect((await parse(['up', '--engine', 'lmdb'])).plans[0]?.config.storageEngine).toBe('lmdb');
    expect((await parse(['up'])).plans[0]?.config).not.toHaveProperty('storageEngine');
    for (const bad of [
      ['--engine', 'rocksdb'],
      ['--engine', 'log', '--memory'],
    ]) {
      const refused = await parse(['up', ...bad]);
      expect(refused.plans).toEqual([]);
      expect(exitCodeFor(refused.error)).toBe(2);
    }
  });

  it('--storage-max takes a size with or without a unit; anything else is a usage error', async () => {
    const bound = async (value: string) =>
      (await parse(['up', '--storage-max', value])).plans[0]?.config.storageBytesMax;
    expect(await bound('2gb')).toBe(2 * 1024 ** 3);
    expect(await bound('512MB')).toBe(512 * 1024 ** 2);
    expect(await bound('4096')).toBe(4096);
    expect(await bound('0')).toBe(0);
    expect((await parse(['up'])).plans[0]?.config).not.toHaveProperty('storageBytesMax');
    for (const bad of ['banana', '-1', '2 parsecs', '']) {
      const refused = await parse(['up', '--storage-max', bad]);
      expect(refused.plans).toEqual([]);
      expect(exitCodeFor(refused.error)).toBe(2);
    }
  });

  it('--memory keeps data in memory', async () => {
    const { plans, error } = await parse(['up', '--memory']);
    expect(error).toBeNull();
    expect(plans[0]?.config.dataDir).toBeNull();
  });

  it('takes every option and resolves --data-dir to an absolute path', async () => {
    const { plans, error } = await parse([
      'up',
      '--nodes',
      '7',
      '--n',
      '5',
      '--r',
      '3',
      '--w',
      '4',
      '--port',
      '0',
      '--host',
      '0.0.0.0',
      '--data-dir',
      'some/dir',
      '--token',
      'a-secret-of-24-characters',
    ]);
    expect(error).toBeNull();
    expect(plans[0]).toEqual({
      config: { nodes: 7, n: 5, r: 3, w: 4, dataDir: path.resolve('some/dir') },
      host: '0.0.0.0',
      port: 0,
      adminToken: 'a-secret-of-24-characters',
      https: null,
    });
  });

  it('--processes runs each node as a process; without it the plan names no runtime', async () => {
    const { plans, error } = await parse(['up', '--processes', '--memory']);
    expect(error).toBeNull();
    expect(plans[0]?.runtime).toBe('processes');
    expect((await parse(['up'])).plans[0]?.runtime).toBeUndefined();
  });

  it('--http-cert and --http-key together serve HTTPS', async () => {
    const { plans, error } = await parse(['up', '--http-cert', 'c.pem', '--http-key', 'k.pem']);
    expect(error).toBeNull();
    expect(plans[0]?.https).toEqual({
      certFile: path.resolve('c.pem'),
      keyFile: path.resolve('k.pem'),
    });
  });

  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'])(
    'needs no admin token on loopback (%s)',
    async (host) => {
      const { plans, error } = await parse(['up', '--host', host]);
      expect(error).toBeNull();
      expect(plans[0]?.adminToken).toBeNull();
    },
  );

  it('accepts the edges: one node with N=R=W=1, port 65535, 64 nodes', async () => {
    expect(
      (await parse(['up', '--nodes', '1', '--n', '1', '--r', '1', '--w', '1'])).error,
    ).toBeNull();
    expect((await parse(['up', '--port', '65535'])).error).toBeNull();
    expect((await parse(['up', '--nodes', '64'])).error).toBeNull();
  });

  it.each([
    [['--nodes', '0'], /--nodes.*'0' is invalid.*between 1 and 64/],
    [['--nodes', '65'], /between 1 and 64/],
    [['--nodes', 'abc'], /'abc' is invalid/],
    [['--nodes', '1.5'], /'1.5' is invalid/],
    [['--nodes', '5e1'], /'5e1' is invalid/],
    [['--n', '0'], /--n.*between 1/],
    [['--r', '0'], /--r.*between 1/],
    [['--w', ''], /--w.*invalid/],
    [['--port', '65536'], /--port.*between 0 and 65535/],
    [['--port', '-1'], /--port.*invalid/],
    [['--port', '80x'], /--port.*invalid/],
    [['--host', ''], /--host.*Must not be empty/],
    [['--data-dir', ' '], /--data-dir.*Must not be empty/],
    [['--n', '6'], /--n 6 needs at least 6 nodes, but --nodes is 5/],
    [['--nodes', '2', '--n', '3', '--r', '1', '--w', '1'], /--nodes is 2/],
    [['--r', '4'], /--r 4 must not exceed --n 3/],
    [['--n', '2', '--w', '3'], /--w 3 must not exceed --n 2/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--port'], /argument missing/],
    [['extra'], /too many arguments/],
    [['--memory', '--data-dir', 'd'], /--memory and --data-dir exclude each other/],
    [['--data-dir', 'd', '--memory'], /--memory and --data-dir exclude each other/],
    [['--host', '0.0.0.0'], /reachable from other machines.*--token/],
    [['--host', '192.0.2.7'], /reachable from other machines.*RINGKV_ADMIN_TOKEN/],
    [['--token', 'short'], /--token must be at least 16 characters/],
    [['--http-cert', 'c.pem'], /--http-cert and --http-key go together/],
    [['--http-key', 'k.pem'], /--http-cert and --http-key go together/],
  ])('up %j is a usage error with exit code 2', async (args, message) => {
    const { plans, error, stderr } = await parse(['up', ...args]);
    expect(error).toBeInstanceOf(CommanderError);
    expect(exitCodeFor(error)).toBe(2);
    expect(stderr).toMatch(message);
    expect(plans).toEqual([]);
  });

  it('a per-option parse error carries exit code 2 itself', async () => {
    const { error } = await parse(['up', '--nodes', '0']);
    expect((error as CommanderError).exitCode).toBe(2);
    expect((error as CommanderError).code).toBe('commander.invalidArgument');
  });

  it('an unknown command is a usage error', async () => {
    const { error } = await parse(['upp']);
    expect(exitCodeFor(error)).toBe(2);
  });
});

describe('exit codes', () => {
  it('help is 0', async () => {
    const { error } = await parse(['up', '--help']);
    expect(exitCodeFor(error)).toBe(0);
  });

  it('a startup or command failure keeps its own code; anything else is 1', () => {
    expect(exitCodeFor(new StartupError('port in use', 1))).toBe(1);
    expect(exitCodeFor(new StartupError('bad config', 2))).toBe(2);
    expect(exitCodeFor(new CliError('unreachable', 3))).toBe(3);
    expect(exitCodeFor(new CliError('not found', 4))).toBe(4);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
  });

  it('a failed start is 2 for bad arguments, 5 for an address in use, else 1', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const denied = Object.assign(new Error('listen EACCES'), { code: 'EACCES' });
    expect(startupExitCode(new ValidationError('n must be ≥ 1'))).toBe(2);
    expect(startupExitCode(inUse)).toBe(5);
    expect(startupExitCode(denied)).toBe(1);
    expect(startupExitCode('a string')).toBe(1);
  });
});
