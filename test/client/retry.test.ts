import { describe, expect, it } from 'vitest';
import { isRetryable, type RetryPolicy, retryDelayMs } from '../../src/client/retry.js';
import {
  OverloadError,
  QuorumError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../../src/errors.js';

const policy: RetryPolicy = { attemptsMax: 4, delayBaseMs: 50, delayMaxMs: 150 };

describe('retry policy', () => {
  it('doubles the jitter ceiling per attempt, capped, and stops at the budget', () => {
    // attempt 2 is the first retry: ceiling 50; then 100; then 200 capped to 150; then none.
    expect(retryDelayMs(policy, 2, 0.999)).toBe(49);
    expect(retryDelayMs(policy, 3, 0.999)).toBe(99);
    expect(retryDelayMs(policy, 4, 0.999)).toBe(149);
    expect(retryDelayMs(policy, 5, 0.5)).toBeNull();
  });

  it('jitters over the whole range [0, ceiling)', () => {
    expect(retryDelayMs(policy, 3, 0)).toBe(0);
    expect(retryDelayMs(policy, 3, 0.5)).toBe(50);
  });

  it('a budget of one attempt never retries', () => {
    expect(retryDelayMs({ ...policy, attemptsMax: 1 }, 2, 0.5)).toBeNull();
  });

  it('retries quorum, timeout and overload failures only', () => {
    expect(isRetryable(new QuorumError('q', 2, 1))).toBe(true);
    expect(isRetryable(new TimeoutError('t'))).toBe(true);
    expect(isRetryable(new OverloadError('o'))).toBe(true);
    expect(isRetryable(new ValidationError('v'))).toBe(false);
    expect(isRetryable(new UnavailableError('u'))).toBe(false);
  });
});
