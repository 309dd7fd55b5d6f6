/**
 * A node past storageBytesMax answers a put with StorageFullError: each front says so the way
 * its clients know — HTTP 507 with code STORAGE_FULL (read back as the same error by the remote
 * client), RESP `-OOM` as Redis does past maxmemory.
 */
import { describe, expect, it } from 'vitest';
import { errorFromHttp } from '../../src/client/http-errors.js';
import { toError } from '../../src/client/results.js';
import { isRetryable } from '../../src/client/retry.js';
import { StorageFullError } from '../../src/errors.js';
import { errorToHttp } from '../../src/server/errors-to-http.js';
import { errorReply } from '../../src/server/resp/errors.js';

const message = 'node n1 holds 5000 bytes of records, over its bound of 4096 (storageBytesMax)';

describe('StorageFullError on every front', () => {
  it("is what a coordinator's 'full' answer becomes, and is not retried elsewhere", () => {
    const error = toError({ ok: false, error: 'full', message }, 'put k');
    expect(error).toBeInstanceOf(StorageFullError);
    expect(error.message).toBe(`put k: ${message}`);
    expect(isRetryable(error)).toBe(false);
  });

  it('is HTTP 507 with code STORAGE_FULL, and the remote client reads it back', () => {
    const reply = errorToHttp(new StorageFullError(message));
    expect(reply.status).toBe(507);
    expect(reply.body).toEqual({ error: message, code: 'STORAGE_FULL' });
    expect(reply.unexpected).toBe(false);
    const back = errorFromHttp(reply.status, JSON.stringify(reply.body), 'n1');
    expect(back).toBeInstanceOf(StorageFullError);
    expect(back.message).toContain(message);
  });

  it('is a RESP -OOM error, as Redis answers past maxmemory', () => {
    expect(errorReply(new StorageFullError(message))).toEqual({
      reply: { t: 'error', v: `OOM ${message}` },
      unexpected: false,
    });
  });
});
