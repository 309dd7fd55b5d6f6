import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../../src/server/resp/glob.js';
import { redisParameters } from '../../../src/server/resp/handlers-server-config.js';

describe('CONFIG GET globs (Redis stringmatch, case-insensitive)', () => {
  const matches = (glob: string, name: string) => globMatcher(glob)(name);

  it('matches *, ?, sets, ranges, negation and escapes', () => {
    expect(matches('*', 'maxmemory-policy')).toBe(true);
    expect(matches('max*', 'maxclients')).toBe(true);
    expect(matches('max*', 'save')).toBe(false);
    expect(matches('sav?', 'save')).toBe(true);
    expect(matches('sav?', 'saves')).toBe(false);
    expect(matches('[st]ave', 'save')).toBe(true);
    expect(matches('[a-c]ave', 'save')).toBe(false);
    expect(matches('[^a-c]ave', 'save')).toBe(true);
    expect(matches('MAXMEMORY', 'maxmemory')).toBe(true);
    expect(matches('max\\*', 'max*')).toBe(true);
    expect(matches('max\\*', 'maxclients')).toBe(false);
  });

  it('takes regex characters literally', () => {
    expect(matches('proto-max-bulk-len', 'proto-max-bulk-len')).toBe(true);
    expect(matches('a.c', 'abc')).toBe(false);
    expect(matches('(x)|y', 'y')).toBe(false);
    expect(matches('[unclosed', '[unclosed')).toBe(true);
  });

  it('answers at once for patterns a backtracking matcher never finishes', () => {
    // As a RegExp, 18 stars then `x` took 46 s against this name; 30 would take years, and
    // 100 000 `?*` overflowed the regex stack. Each call here is linear in the pattern.
    expect(matches(`${'*'.repeat(30)}x`, 'maxmemory-policy')).toBe(false);
    expect(matches(`${'*'.repeat(100_000)}y`, 'maxmemory-policy')).toBe(true);
    expect(matches(`${'?*'.repeat(100_000)}x`, 'maxmemory-policy')).toBe(false);
    expect(matches(`${'*e'.repeat(30)}*`, 'maxmemory-policy')).toBe(false);
    expect(matches('*o*o*', 'maxmemory-policy')).toBe(true);
    expect(matches('*e*e*', 'maxmemory-policy')).toBe(false);
  });

  it('reads classes as Redis does: escapes inside, reversed ranges, [] matching nothing', () => {
    expect(matches('[\\]]', ']')).toBe(true);
    expect(matches('[c-a]ave', 'bave')).toBe(true);
    expect(matches('[]]x', ']x')).toBe(false);
    expect(matches('[^s]ave', 'save')).toBe(false);
  });
});

describe('redisParameters', () => {
  const limits = { clientsMax: 10_000, idleTimeoutMs: 300_000, bulkBytesMax: 512 * 1024 * 1024 };

  it('reports durable storage as an always-fsynced AOF, memory as none', () => {
    const durable = new Map(redisParameters({ ...limits, durable: true }));
    expect(durable.get('appendonly')).toBe('yes');
    expect(durable.get('appendfsync')).toBe('always');
    const memory = new Map(redisParameters({ ...limits, durable: false }));
    expect(memory.get('appendonly')).toBe('no');
    expect(memory.get('save')).toBe('');
  });

  it('reports the RESP bounds in Redis units', () => {
    const params = new Map(redisParameters({ ...limits, durable: false }));
    expect(params.get('maxclients')).toBe('10000');
    expect(params.get('timeout')).toBe('300');
    expect(params.get('proto-max-bulk-len')).toBe(String(512 * 1024 * 1024));
    expect(params.get('maxmemory-policy')).toBe('noeviction');
    expect(params.get('maxmemory')).toBe('0'); // no bound unless --storage-max sets one
    const bounded = new Map(
      redisParameters({ ...limits, durable: true, storageBytesMax: 2 ** 31 }),
    );
    expect(bounded.get('maxmemory')).toBe(String(2 ** 31));
  });
});
