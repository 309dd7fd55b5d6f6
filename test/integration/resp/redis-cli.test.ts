/**
 * redis-cli (Debian redis-tools) against the RESP server on a real cluster: plain commands, RESP3
 * (`-3`), errors, AUTH (`-a`), `--pipe` (raw pipelined protocol, as bulk loading does), and a
 * short redis-benchmark run (from the same package) that must cause no error reply at all.
 * Skipped, with the reason, where redis-cli is not installed.
 */
import { execFile, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, type RespHarness, startRespHarness } from './harness.js';

const HAS_REDIS_CLI = spawnSync('redis-cli', ['--version']).status === 0;
const TOKEN = 'redis-cli-test-token-0123456789ab';

/** Runs a redis-tools binary against `port`: its output (stdout, then stderr) and exit code. */
function redisTool(
  binary: 'redis-cli' | 'redis-benchmark',
  port: number,
  args: string[],
  options: { input?: Buffer; timeoutMs?: number } = {},
): Promise<{ out: string; code: number }> {
  const { input, timeoutMs = 20_000 } = options;
  return new Promise((resolve) => {
    const child = execFile(
      binary,
      ['-h', '127.0.0.1', '-p', String(port), ...args],
      { timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ out: `${stdout}${stderr}`.trim(), code });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

function cli(port: number, args: string[], input?: Buffer): Promise<{ out: string; code: number }> {
  return redisTool('redis-cli', port, args, input === undefined ? {} : { input });
}

const TITLE = HAS_REDIS_CLI ? 'redis-cli' : 'redis-cli (skipped: redis-cli is not installed)';

describe.skipIf(!HAS_REDIS_CLI)(TITLE, () => {
  let h: RespHarness;
  let guarded: RespHarness;

  beforeAll(async () => {
    h = await startRespHarness();
    guarded = await startRespHarness({ cluster: h.cluster, adminToken: TOKEN });
  });

  afterAll(async () => {
    await guarded?.close();
    await h?.close();
  });

  it('PING, SET, GET, DEL, EXISTS, MSET/MGET, DBSIZE, INFO', async () => {
    expect((await cli(h.port, ['PING'])).out).toBe('PONG');
    expect((await cli(h.port, ['SET', 'cli:k', 'hello world'])).out).toBe('OK');
    expect((await cli(h.port, ['GET', 'cli:k'])).out).toBe('hello world');
    expect((await cli(h.port, ['EXISTS', 'cli:k', 'cli:none'])).out).toBe('1');
    expect((await cli(h.port, ['MSET', 'cli:a', '1', 'cli:b', '2'])).out).toBe('OK');
    expect((await cli(h.port, ['MGET', 'cli:a', 'cli:b', 'cli:c'])).out).toBe('1\n2');
    expect((await cli(h.port, ['DEL', 'cli:k', 'cli:a'])).out).toBe('2');
    expect(Number((await cli(h.port, ['DBSIZE'])).out)).toBeGreaterThanOrEqual(1);
    expect((await cli(h.port, ['INFO', 'server'])).out).toContain('redis_version:');
  });

  it('speaks RESP3 with -3', async () => {
    await cli(h.port, ['SET', 'cli:r3', 'v']);
    expect((await cli(h.port, ['-3', 'GET', 'cli:r3'])).out).toBe('v');
    expect((await cli(h.port, ['-3', 'GET', 'cli:r3-missing'])).out).toBe(''); // nil, not a tty
    expect((await cli(h.port, ['-3', 'HELLO', '3'])).out).toContain('proto');
  });

  it('prints errors: unknown command, wrong arity', async () => {
    expect((await cli(h.port, ['FLUSHDB'])).out).toContain("ERR unknown command 'FLUSHDB'");
    expect((await cli(h.port, ['GET'])).out).toContain("wrong number of arguments for 'get'");
  });

  it('authenticates with -a when a token is set, refuses without', async () => {
    expect((await cli(guarded.port, ['GET', 'cli:k'])).out).toContain('NOAUTH');
    const ok = await cli(guarded.port, ['-a', TOKEN, '--no-auth-warning', 'SET', 'cli:auth', 'x']);
    expect(ok.out).toBe('OK');
  });

  it('--pipe: 2000 pipelined SETs, 0 errors', async () => {
    const input = Buffer.concat(
      Array.from({ length: 2000 }, (_, i) => command('SET', `pipe:${i}`, `v${i}`)),
    );
    const { out } = await cli(h.port, ['--pipe'], input);
    expect(out).toContain('errors: 0, replies: 2000');
    expect((await cli(h.port, ['GET', 'pipe:1999'])).out).toBe('v1999');
  });

  it('redis-benchmark SET/GET: its CONFIG GET probes and every command answer without error', async () => {
    const errorsBefore = h.server.stats.errors;
    // Random keys of a 1 000-key space (the run uses 100 000), 64-byte values.
    const args = ['-t', 'set,get', '-n', '2000', '-c', '10', '-r', '1000', '-d', '64'];
    const { out, code } = await redisTool('redis-benchmark', h.port, args, { timeoutMs: 60_000 });
    expect(code).toBe(0);
    expect(out).toContain('====== SET ======');
    expect(out).toContain('====== GET ======');
    expect(out).not.toMatch(/error/i);
    expect(h.server.stats.errors - errorsBefore).toBe(0);
  });
});
