import { describe, expect, it } from 'vitest';
import { makeGetResult, toGetResult } from '../../src/client/results.js';
import { decodeContext, encodeContext } from '../../src/core/context.js';
import type { ClientResult } from '../../src/core/messages.js';
import type { KeyRecord } from '../../src/core/types.js';
import { contextOf } from '../../src/core/version.js';
import { withEncodedContext } from '../../src/runtime/reply-context.js';

const record: KeyRecord = {
  siblings: [
    { dot: ['b.1', 3], past: [['a.1', 2]], value: new Uint8Array([1]) },
    {
      dot: ['a.1', 4],
      past: [
        ['a.1', 3],
        ['b.1', 1],
      ],
      value: new Uint8Array([2]),
    },
  ],
};

function getAnswer(rec: KeyRecord | null): ClientResult {
  return {
    ok: true,
    op: 'get',
    record: rec,
    replies: 2,
    coordinator: 'n1' as never,
    sloppy: false,
  };
}

describe('withEncodedContext', () => {
  it('adds the context the client would have encoded itself', () => {
    const result = withEncodedContext(getAnswer(record));
    expect(result).toMatchObject({ op: 'get', context: encodeContext(contextOf(record)) });
    const context = (result as { context: string }).context;
    expect(decodeContext(context)).toEqual([
      ['a.1', 4],
      ['b.1', 3],
    ]);
    expect(toGetResult(result, 1, 'get').context).toBe(makeGetResult(record, 2, 1, false).context);
  });

  it('leaves answers without a record, puts and failures as they are', () => {
    const none = getAnswer(null);
    expect(withEncodedContext(none)).toBe(none);
    const failed: ClientResult = { ok: false, error: 'timeout', message: 'late' } as ClientResult;
    expect(withEncodedContext(failed)).toBe(failed);
  });
});
