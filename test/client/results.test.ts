import { describe, expect, it } from 'vitest';
import { toGetResult, toPutResult } from '../../src/client/results.js';
import { QuorumError } from '../../src/errors.js';

const failed = (acked: number) => ({ ok: false, error: 'quorum', needed: 3, acked }) as const;

describe('a failed quorum says what the caller can do', () => {
  it('a write some replicas acked: a lower w would have succeeded, and it is not undone', () => {
    const error = catchError(() => toPutResult(failed(2), 3, 'put "k"'));
    expect(error).toBeInstanceOf(QuorumError);
    expect(error.message).toBe(
      'put "k": quorum not met (2 of 3 replicas answered); w=2 would have succeeded; ' +
        'the write is stored on 2 replica(s) and is not undone',
    );
    expect(error).toMatchObject({ needed: 3, acked: 2 });
  });

  it('a read with some replies: that r would have been answered', () => {
    const error = catchError(() => toGetResult(failed(1), 3, 'get "k"'));
    expect(error.message).toBe(
      'get "k": quorum not met (1 of 3 replicas answered); r=1 would have succeeded',
    );
  });

  it('no replica answered: no hint', () => {
    const error = catchError(() => toPutResult(failed(0), 3, 'put "k"'));
    expect(error.message).toBe('put "k": quorum not met (0 of 3 replicas answered)');
  });
});

function catchError(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}
