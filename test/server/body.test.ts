import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { readBody } from '../../src/server/body.js';

/** A request body arriving in `chunks`, with the headers an IncomingMessage would carry. */
function request(chunks: readonly Buffer[], headers: Record<string, string> = {}): IncomingMessage {
  const stream = new PassThrough();
  Object.assign(stream, { headers });
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  return stream as unknown as IncomingMessage;
}

const never = new AbortController().signal;

describe('readBody', () => {
  it('joins the chunks of a body in order', async () => {
    // Slices of one larger buffer, as a socket's reads hand them over.
    const wire = Buffer.alloc(64 * 1024, 7);
    wire.write('hello ', 100);
    wire.write('world', 106);
    const body = await readBody(request([wire.subarray(100, 106), wire.subarray(106, 111)]), {
      limitBytes: 1024,
      signal: never,
    });
    expect(body.toString()).toBe('hello world');
  });

  it('reads an empty body as an empty buffer', async () => {
    const body = await readBody(request([]), { limitBytes: 1024, signal: never });
    expect(body.byteLength).toBe(0);
  });

  it('refuses a body over the limit, declared or streamed', async () => {
    const big = [Buffer.alloc(600), Buffer.alloc(600)];
    const options = { limitBytes: 1000, signal: never };
    await expect(readBody(request(big, { 'content-length': '1200' }), options)).rejects.toThrow(
      /1200 bytes declared/,
    );
    await expect(readBody(request(big), options)).rejects.toBeInstanceOf(ValidationError);
  });
});
