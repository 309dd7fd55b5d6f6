import { describe, expect, it } from 'vitest';
import { ActivityLog, originOf } from '../../../src/server/monitor/activity-log.js';

describe('ActivityLog', () => {
  it('records an action as running, then its outcome in place', () => {
    const log = new ActivityLog(10);
    const end = log.begin('kill n2', 'cli@127.0.0.1', 1_000);
    expect(log.recent()).toMatchObject([
      { seq: 1, action: 'kill n2', outcome: 'running', ms: null },
    ]);
    end('ok', 'done');
    expect(log.recent()).toMatchObject([{ seq: 1, outcome: 'ok', detail: 'done' }]);
    expect(log.recent()[0]!.ms).toBeGreaterThanOrEqual(0);
  });

  it('is bounded: the oldest entries drop out, and ending one of them is harmless', () => {
    const log = new ActivityLog(3);
    const first = log.begin('a', 'http');
    for (const action of ['b', 'c', 'd']) log.begin(action, 'http')('ok');
    first('failed', 'too late');
    expect(log.recent().map((entry) => entry.action)).toEqual(['b', 'c', 'd']);
    expect(log.recent(2).map((entry) => entry.seq)).toEqual([3, 4]);
  });

  it('cuts long details', () => {
    const log = new ActivityLog(1);
    log.begin('x', 'http')('failed', 'e'.repeat(10_000));
    expect(log.recent()[0]!.detail.length).toBeLessThanOrEqual(300);
  });
});

describe('originOf', () => {
  it.each([
    ['cli', '127.0.0.1', 'cli@127.0.0.1'],
    ['dashboard', '::ffff:10.0.0.2', 'dashboard@10.0.0.2'],
    [undefined, '::1', 'http@::1'],
    ['  ', undefined, 'http'],
    ['<script>x', '127.0.0.1', 'scriptx@127.0.0.1'],
    [['a', 'b'], '127.0.0.1', 'http@127.0.0.1'],
  ] as const)('%j from %s → %s', (tag, address, expected) => {
    expect(originOf(tag as string | string[] | undefined, address)).toBe(expected);
  });
});
