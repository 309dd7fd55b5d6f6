import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { logLevelArg, toUpPlan } from '../../src/cli/up-options.js';
import { LOG_LEVELS, type LogLevel } from '../../src/config.js';
import type { ClientResult } from '../../src/core/messages.js';
import { ValidationError } from '../../src/errors.js';
import {
  createLogger,
  KEY_LOG_CHARS_MAX,
  logKey,
  NodeLog,
  parseLogLevel,
  RateLimitedLog,
} from '../../src/runtime/log.js';

/** A pino destination that keeps every line, parsed. */
function capture(): DestinationStream & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line: string) => void lines.push(JSON.parse(line)) };
}

function logger(level: LogLevel = 'debug') {
  const out = capture();
  return { out, log: createLogger({ level, node: 'n1', destination: out }) };
}

describe('log levels', () => {
  it('parses every level name, case and spaces aside', () => {
    for (const level of LOG_LEVELS) expect(parseLogLevel(level)).toBe(level);
    expect(parseLogLevel(' DEBUG ')).toBe('debug');
  });

  it('rejects unknown names with a ValidationError listing the levels', () => {
    expect(() => parseLogLevel('verbose')).toThrow(ValidationError);
    expect(() => parseLogLevel('')).toThrow(/trace, debug, info, warn, error, fatal, silent/);
  });

  it('backs `ringkv up --log-level`: a usage error (exit 2) for a bad level, else in the plan', () => {
    expect(logLevelArg('info')).toBe('info');
    expect(() => logLevelArg('loud')).toThrow(expect.objectContaining({ exitCode: 2 }));
    const flags = { nodes: 3, n: 3, r: 2, w: 2, port: 0, host: '127.0.0.1', memory: true };
    expect(toUpPlan({ ...flags, logLevel: 'debug' }).config.logLevel).toBe('debug');
    expect('logLevel' in toUpPlan(flags).config).toBe(false); // the config default applies
  });
});

describe('createLogger', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('writes JSON lines with level names, the node id and ISO time, at its level and above', () => {
    const { out, log } = logger('info');
    log.debug('hidden');
    log.info({ key: 'k' }, 'shown');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ level: 'info', node: 'n1', key: 'k', msg: 'shown' });
    expect(Number.isNaN(Date.parse(String(out.lines[0]!.time)))).toBe(false);
  });

  it('appends to a file path, creating its directory', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ringkv-log-'));
    const file = path.join(dir, 'sub', 'ringkv.log');
    createLogger({ level: 'info', name: 'test', destination: file }).info('one');
    createLogger({ level: 'info', name: 'test', destination: file }).warn('two');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.name, l.level, l.msg])).toEqual([
      ['test', 'info', 'one'],
      ['test', 'warn', 'two'],
    ]);
  });

  it('cuts long keys', () => {
    expect(logKey('short')).toBe('short');
    const cut = logKey('k'.repeat(1000));
    expect(cut).toHaveLength(KEY_LOG_CHARS_MAX + 1);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('RateLimitedLog', () => {
  it('logs at most one line per kind per second, counting the events it stands for', () => {
    const { out, log } = logger('warn');
    let now = 10_000;
    const limited = new RateLimitedLog(log, 1000, () => now);
    limited.warn('malformed', { from: 'n2' }, 'dropped');
    for (let i = 0; i < 5; i++) limited.warn('malformed', { from: 'n2' }, 'dropped');
    limited.error('storage', {}, 'disk'); // another kind is not held back
    now += 999;
    limited.warn('malformed', {}, 'dropped');
    now += 1;
    limited.warn('malformed', { from: 'n3' }, 'dropped');
    expect(out.lines.map((l) => [l.kind, l.level, l.count])).toEqual([
      ['malformed', 'warn', 1],
      ['storage', 'error', 1],
      ['malformed', 'warn', 7], // itself and the 6 suppressed since the first line
    ]);
    expect(out.lines[2]).toMatchObject({ from: 'n3' });
  });

  it('counts nothing when its level is off', () => {
    const { out, log } = logger('error');
    const limited = new RateLimitedLog(log, 1000, () => 0);
    limited.warn('w', {}, 'quiet');
    expect(out.lines).toHaveLength(0);
  });
});

describe('NodeLog', () => {
  const put = (trace?: string) => ({
    op: 'put',
    key: 'user:1',
    value: new TextEncoder().encode('secret-value'),
    context: [],
    w: 2,
    timeoutMs: 100,
    ...(trace === undefined ? {} : { trace }),
  });
  const ok: ClientResult = {
    ok: true,
    op: 'put',
    acked: 2,
    coordinator: 'n1' as never,
    sloppy: false,
    siblings: 1,
  };

  it('logs a request and its reply with the trace, op, key and outcome, never the value', () => {
    const { out, log } = logger('debug');
    let now = 0;
    const nodeLog = new NodeLog(log, () => now);
    nodeLog.request(7, put('trace-abc'));
    now = 12;
    nodeLog.reply(7, ok);
    expect(out.lines[0]).toMatchObject({
      msg: 'client request',
      node: 'n1',
      trace: 'trace-abc',
      reqId: 7,
      op: 'put',
      key: 'user:1',
    });
    expect(out.lines[1]).toMatchObject({
      msg: 'client reply',
      trace: 'trace-abc',
      outcome: 'ok',
      acked: 2,
      ms: 12,
    });
    expect(JSON.stringify(out.lines)).not.toContain('secret');
    expect(JSON.stringify(out.lines)).not.toContain('value');
  });

  it('logs failed outcomes by their error', () => {
    const { out, log } = logger('debug');
    const nodeLog = new NodeLog(log);
    nodeLog.request(1, put('t'));
    nodeLog.reply(1, { ok: false, error: 'quorum', needed: 2, acked: 1 });
    expect(out.lines[1]).toMatchObject({ trace: 't', outcome: 'quorum', needed: 2, acked: 1 });
  });

  it('logs peer messages that carry a trace, with the key of a forwarded request', () => {
    const { out, log } = logger('debug');
    const nodeLog = new NodeLog(log);
    nodeLog.message('n2', { type: 'replica-put', key: 'k1', record: {}, trace: 'a' });
    nodeLog.message('n2', { type: 'replica-put-ack', opId: 1 }); // no trace: not logged
    nodeLog.message('n3', { type: 'forward', request: { key: 'k2' }, trace: 'b' });
    nodeLog.message('n3', 'garbage');
    expect(out.lines.map((l) => [l.type, l.from, l.trace, l.key])).toEqual([
      ['replica-put', 'n2', 'a', 'k1'],
      ['forward', 'n3', 'b', 'k2'],
    ]);
  });

  it('builds nothing when debug is off, but warns about malformed messages (rate-limited)', () => {
    const { out, log } = logger('info');
    const nodeLog = new NodeLog(log, () => 0);
    nodeLog.request(1, put('t'));
    nodeLog.reply(1, ok);
    nodeLog.message('n2', { type: 'replica-put', key: 'k', trace: 't' });
    nodeLog.malformed('n2', { type: 'replica-put' });
    nodeLog.malformed('n2', { type: 'replica-put' });
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({
      level: 'warn',
      kind: 'malformed-message',
      from: 'n2',
      type: 'replica-put',
      count: 1,
    });
  });
});
