/**
 * Reads a request body into one Buffer with a hard size limit. A declared Content-Length over
 * the limit is refused before a byte is read; a chunked body is counted as it streams and
 * refused the moment it passes the limit. On refusal the rest of the body is drained and
 * discarded (never buffered) so the 413 reply can be delivered; the server then closes the
 * connection because the request was not read completely.
 */
import type { IncomingMessage } from 'node:http';
import { ValidationError } from '../errors.js';
import type { AbortLike } from './request-signal.js';

export interface ReadBodyOptions {
  readonly limitBytes: number;
  /** Aborts the read (request timeout, client gone); the rejection is `signal.reason`. */
  readonly signal: AbortLike;
  /** Called once just before reading starts (used to send `100 Continue`). */
  readonly onStart?: () => void;
}

export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { limitBytes, signal } = options;
  const declared = declaredLength(req);
  if (declared !== null && declared > limitBytes) {
    return Promise.reject(tooLarge(limitBytes, `${declared} bytes declared`));
  }
  if (signal.aborted) return Promise.reject(signal.reason);
  options.onStart?.();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown): void => {
      cleanup();
      req.resume(); // drain and discard whatever is still coming
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      receivedBytes += chunk.length;
      if (receivedBytes > limitBytes) fail(tooLarge(limitBytes, 'body exceeded it'));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      // A body that came in one chunk (most do) is handed on as it came: every caller copies
      // what it keeps (a put's value in the client's validateValue; the control and admin
      // routes decode it), so joining it here would copy it a second time.
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, receivedBytes));
    };
    const onError = (error: unknown): void => fail(error);
    const onAbort = (): void => fail(signal.reason);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The Content-Length header as a number, or null when absent (chunked) or unparsable. */
function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers['content-length'];
  if (header === undefined || !/^[0-9]+$/.test(header)) return null;
  return Number(header);
}

function tooLarge(limitBytes: number, detail: string): ValidationError {
  return new ValidationError(`request body is larger than ${limitBytes} bytes (${detail})`, true);
}
