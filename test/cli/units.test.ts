import { describe, expect, it } from 'vitest';
import { exitCodeForStatus } from '../../src/cli/exit-codes.js';
import { formatSiblings, showValue } from '../../src/cli/siblings.js';
import { formatNetwork, formatStatus } from '../../src/cli/status-table.js';
import { durationMs, formatRate, rate } from '../../src/cli/units.js';
import type { ClusterStatus } from '../../src/client/types.js';

describe('option values', () => {
  it.each([
    ['5ms', 5],
    ['0', 0],
    ['1.5s', 1500],
    ['0.5ms', 0.5],
    ['60s', 60_000],
    ['1m', 60_000],
    ['5 sec', 5_000],
  ])('duration %s is %d ms', (text, ms) => {
    expect(durationMs(60_000)(text)).toBe(ms);
  });

  it('takes minutes and hours where the bound allows (add-node --wait 5m)', () => {
    expect(durationMs(86_400_000)('5m')).toBe(300_000);
    expect(durationMs(86_400_000)('2h')).toBe(7_200_000);
  });

  it.each(['', '-1s', 'ms', '61s', '2m', '1e3', '5 ms x', 'soon'])(
    'duration %j is refused',
    (text) => {
      expect(() => durationMs(60_000)(text)).toThrow(/Must be a duration between 0 and 1 minute/);
    },
  );

  it.each(['5', '1.5', '250'])('a bare number %j is refused: it names no unit', (text) => {
    expect(() => durationMs(60_000)(text)).toThrow(/has no unit: write .*ms or .*s/);
  });

  it.each([
    ['1%', 0.01],
    ['0.5%', 0.005],
    ['100%', 1],
    ['0', 0],
    ['0.25', 0.25],
    ['1', 1],
  ])('rate %s is %d', (text, value) => {
    expect(rate(text)).toBeCloseTo(value, 12);
  });

  it.each(['2', '101%', '-1%', 'x', '%', ''])('rate %j is refused', (text) => {
    expect(() => rate(text)).toThrow(/percentage/);
  });

  it('formats rates without float noise', () => {
    expect(formatRate(0.01)).toBe('1%');
    expect(formatRate(0.07)).toBe('7%');
    expect(formatRate(0.005)).toBe('0.5%');
    expect(formatRate(0)).toBe('0%');
  });
});

describe('exit codes for HTTP statuses', () => {
  it.each([
    [404, 4],
    [400, 2],
    [405, 2],
    [413, 2],
    [409, 1],
    [500, 1],
    [501, 1],
    [503, 1],
    [504, 1],
  ])('%d → %d', (status, code) => {
    expect(exitCodeForStatus(status)).toBe(code);
  });
});

describe('output', () => {
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it('numbers siblings, quoting control characters and showing binary as base64', () => {
    const text = formatSiblings([
      { value: b64('apple') },
      { value: b64('two\nlines') },
      { value: Buffer.from([0xff, 0x00]).toString('base64') },
    ]);
    expect(text).toBe(
      [
        '3 siblings (concurrent values; put with the context to resolve them):',
        '[1] apple',
        '[2] "two\\nlines"',
        '[3] base64:/wA=',
        '',
      ].join('\n'),
    );
    expect(showValue(b64('ünïcode ✓'))).toBe('ünïcode ✓');
  });

  it('status is a table of nodes, then network, ring, quorum and storage', () => {
    const status: ClusterStatus = {
      nodes: [
        {
          id: 'n1',
          state: 'up',
          partitions: 512,
          keys: 10,
          hintsPending: 2,
          antiEntropy: { exchanges: 40, inSync: 38, keysRepaired: 12 },
          partitionGroup: 0,
          messagesDropped: 7,
        },
        {
          id: 'n2',
          state: 'down',
          membership: 'leaving',
          partitions: 512,
          keys: null,
          hintsPending: null,
          partitionGroup: 1,
          messagesDropped: null,
        },
      ],
      ring: { partitionCount: 1024, owners: [], version: 3 },
      config: {
        n: 2,
        r: 1,
        w: 1,
        requestTimeoutMs: 1,
        valueSizeMaxBytes: 1,
        durable: true,
        engine: 'log',
      },
      network: { delayMs: 5, jitterMs: 1, lossRate: 0.01, groups: [['n1'], ['n2']] },
    };
    expect(formatStatus(status).split('\n')).toEqual([
      'node  state           partitions  keys  hints pending  anti-entropy                         group  dropped',
      'n1    up              512         10    2              12 keys / 40 exchanges (38 in sync)  0      7',
      'n2    down (leaving)  512         -     -              -                                    1      -',
      '',
      'network  partitioned [n1] | [n2]; delay 5 ms, jitter 1 ms, loss 1%',
      'ring     version 3, 1024 partitions',
      'quorum   N=2 R=1 W=1',
      'storage  durable (log)',
    ]);
    expect(formatNetwork({ delayMs: 0, jitterMs: 0, lossRate: 0, groups: null })).toBe(
      'no partition; delay 0 ms, jitter 0 ms, loss 0%',
    );
  });

  it("status of node processes names each node's own URL and pid", () => {
    const node = {
      partitions: 512,
      keys: 1,
      hintsPending: 0,
      partitionGroup: null,
      messagesDropped: 0,
    } as const;
    const status: ClusterStatus = {
      nodes: [
        { ...node, id: 'n1', state: 'up', process: { url: 'http://127.0.0.1:4001', pid: 11 } },
        { ...node, id: 'n2', state: 'down', process: null },
      ],
      ring: { partitionCount: 1024, owners: [], version: 0 },
      config: { n: 2, r: 1, w: 1, requestTimeoutMs: 1, valueSizeMaxBytes: 1, durable: true },
      network: { delayMs: 0, jitterMs: 0, lossRate: 0, groups: null },
    };
    const [header, n1, n2] = formatStatus(status).split('\n');
    expect(header).toMatch(/dropped {2}process$/);
    expect(n1).toMatch(/ {2}http:\/\/127\.0\.0\.1:4001 \(pid 11\)$/);
    expect(n2).toMatch(/ {2}-$/);
  });
});
