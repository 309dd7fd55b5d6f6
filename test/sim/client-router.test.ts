/**
 * The simulator drives the real client's decisions: its clients route and retry through
 * src/client/router.ts, not through logic of their own.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import * as router from '../../src/client/router.js';
import { finish, primaries, sim } from './helpers.js';

vi.mock('../../src/client/router.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/client/router.js')>();
  return {
    ...real,
    pickCoordinator: vi.fn(real.pickCoordinator),
    retryAfterMs: vi.fn(real.retryAfterMs),
    attemptBudgetMs: vi.fn(real.attemptBudgetMs),
  };
});

describe('the simulated client', () => {
  it('routes, budgets and retries through the client router', () => {
    const s = sim({ diskLatency: { constant: 50 } });
    const put = s.client('c1').put('k');
    s.runFor(10); // the coordinator's persist is in flight
    s.crash(primaries(s, 'k')[0]!);
    finish(s, put);
    expect(put.op.attempts).toBe(2);
    expect(router.pickCoordinator).toHaveBeenCalledTimes(2);
    expect(router.attemptBudgetMs).toHaveBeenCalled();
    expect(router.retryAfterMs).toHaveBeenCalledTimes(1);
  });

  it('has no routing or retry logic of its own', () => {
    const source = readFileSync(new URL('../../src/sim/client.ts', import.meta.url), 'utf8');
    expect(source).toMatch(/from '\.\.\/client\/router\.js'/);
    for (const own of ['preferenceList', 'retryDelayMs', 'isRetryable', 'Math.random']) {
      expect(source).not.toContain(own);
    }
    const simulator = readFileSync(new URL('../../src/sim/simulator.ts', import.meta.url), 'utf8');
    expect(simulator).not.toContain('preferenceList');
  });
});
