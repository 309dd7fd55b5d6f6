import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../../src/client/retry.js';
import {
  attemptBudgetMs,
  deadlineOf,
  pickCoordinator,
  type RouteView,
  retryAfterMs,
} from '../../src/client/router.js';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import { QuorumError, TimeoutError, ValidationError } from '../../src/errors.js';

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const RING = Ring.create(IDS.map(nodeId), 64);

function view(down: readonly string[], n = 3): RouteView {
  return { ring: RING, n, nodeIds: IDS, isUp: (id) => !down.includes(id) };
}

describe('pickCoordinator', () => {
  const prefs = [...RING.preferenceList('k', 3)];

  it('picks the first replica of the key when it is up', () => {
    expect(pickCoordinator(view([]), 'k')).toBe(prefs[0]);
  });

  it('skips replicas that are down, in preference order', () => {
    expect(pickCoordinator(view([prefs[0]!]), 'k')).toBe(prefs[1]);
    expect(pickCoordinator(view([prefs[0]!, prefs[1]!]), 'k')).toBe(prefs[2]);
  });

  it('falls back to any live node when every replica is down, and to null when none is', () => {
    const others = IDS.filter((id) => !prefs.includes(nodeId(id)));
    expect(pickCoordinator(view(prefs), 'k')).toBe(others[0]);
    expect(pickCoordinator(view(IDS), 'k')).toBeNull();
  });

  it('takes a preferred node while it is up, else routes as usual', () => {
    const other = IDS.find((id) => !prefs.includes(nodeId(id)))!;
    expect(pickCoordinator(view([]), 'k', other)).toBe(other);
    expect(pickCoordinator(view([other]), 'k', other)).toBe(prefs[0]);
  });
});

describe('the request deadline', () => {
  it('gives the first attempt exactly the timeout, later ones what is left, then nothing', () => {
    const deadline = deadlineOf(0.1, 500); // a fractional start must not cost the first attempt
    expect(attemptBudgetMs(deadline, 0.1)).toBe(500);
    expect(attemptBudgetMs(deadline, 200.6)).toBe(299);
    expect(attemptBudgetMs(deadline, 500.1)).toBe(0);
    expect(attemptBudgetMs(deadline, 9_000)).toBe(0);
  });

  it('refuses a non-positive timeout', () => {
    expect(() => deadlineOf(0, 0)).toThrow();
  });
});

describe('retryAfterMs', () => {
  const policy: RetryPolicy = { attemptsMax: 3, delayBaseMs: 50, delayMaxMs: 1_000 };
  const quorum = new QuorumError('q', 2, 1);
  const far = deadlineOf(0, 100_000);

  /** A random source that counts its draws. */
  function source(value: number) {
    const drawn = { count: 0 };
    const random = () => {
      drawn.count++;
      return value;
    };
    return { drawn, random };
  }

  it('never retries bad input, and draws no random number for it', () => {
    const { drawn, random } = source(0.5);
    expect(retryAfterMs(policy, new ValidationError('bad'), 1, random, 0, far)).toBeNull();
    expect(drawn.count).toBe(0);
  });

  it('backs off with jitter within the policy bounds, per attempt', () => {
    for (const r of [0, 0.25, 0.999]) {
      const first = retryAfterMs(policy, quorum, 1, () => r, 0, far)!;
      const second = retryAfterMs(policy, new TimeoutError('t'), 2, () => r, 0, far)!;
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThan(50);
      expect(second).toBeGreaterThanOrEqual(0);
      expect(second).toBeLessThan(100);
    }
    expect(retryAfterMs(policy, quorum, 1, () => 0.999, 0, far)).toBe(49);
  });

  it('stops when the attempts are spent, having drawn once (a seeded sequence stays put)', () => {
    const { drawn, random } = source(0.5);
    expect(retryAfterMs(policy, quorum, 3, random, 0, far)).toBeNull();
    expect(drawn.count).toBe(1);
  });

  it('stops when the delay would leave less than a millisecond of the deadline', () => {
    const deadline = deadlineOf(0, 500);
    expect(retryAfterMs(policy, quorum, 1, () => 0.5, 474, deadline)).toBe(25); // 1 ms left
    expect(retryAfterMs(policy, quorum, 1, () => 0.5, 475, deadline)).toBeNull();
    expect(retryAfterMs(policy, quorum, 1, () => 0, 500, deadline)).toBeNull();
  });
});
