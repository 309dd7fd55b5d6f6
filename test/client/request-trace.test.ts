import { describe, expect, it } from 'vitest';
import { requestTraceOf } from '../../src/client/cluster-client.js';

describe('requestTraceOf', () => {
  it("keeps the caller's trace id at every log level", () => {
    expect(requestTraceOf('trace-abc', 'warn')).toBe('trace-abc');
    expect(requestTraceOf('trace-abc', 'debug')).toBe('trace-abc');
  });

  it('makes one up only when the nodes log requests (debug or trace)', () => {
    expect(requestTraceOf(undefined, 'debug')).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestTraceOf(undefined, 'trace')).toMatch(/^[0-9a-f-]{36}$/);
    for (const level of ['info', 'warn', 'error', 'fatal', 'silent'] as const) {
      expect(requestTraceOf(undefined, level)).toBeUndefined();
    }
  });

  it('refuses a bad trace id', () => {
    expect(() => requestTraceOf('line\nbreak', 'warn')).toThrow(/traceId/);
    expect(() => requestTraceOf('x'.repeat(129), 'silent')).toThrow(/traceId/);
  });
});
