/**
 * The reverse of server/errors-to-http.ts: an HTTP error reply `{ error, code, ... }` from a
 * ringkv node becomes the named error the embedded client would have thrown, so callers of
 * `connect()` match on the same classes (`err instanceof QuorumError`, `err.needed`).
 */
import {
  BusyError,
  OverloadError,
  QuorumError,
  RingkvError,
  SiblingLimitError,
  StorageFullError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../errors.js';

/** The fields of an error body this client reads; anything else in it is ignored. */
interface ErrorBody {
  readonly error?: unknown;
  readonly code?: unknown;
  readonly needed?: unknown;
  readonly acked?: unknown;
}

/**
 * The named error for a reply of `status` with `bodyText` (JSON or not) from `node`. A reply
 * that is not ringkv's (a proxy's 502 page, a 404 from a wrong URL) is a plain RingkvError that
 * names the node and the status, never a guessed class.
 */
export function errorFromHttp(status: number, bodyText: string, node: string): RingkvError {
  const body = parseErrorBody(bodyText);
  const message = typeof body?.error === 'string' ? body.error : `HTTP ${status}`;
  const code = typeof body?.code === 'string' ? body.code : '';
  switch (code) {
    case 'VALIDATION':
      return new ValidationError(message, status === 413);
    case 'QUORUM':
      return new QuorumError(message, countOf(body?.needed), countOf(body?.acked));
    case 'TIMEOUT':
      return new TimeoutError(message);
    case 'UNAVAILABLE':
      return new UnavailableError(message);
    case 'OVERLOAD':
      return new OverloadError(message);
    case 'SIBLING_LIMIT':
      return new SiblingLimitError(message);
    case 'STORAGE_FULL':
      return new StorageFullError(message);
    case 'BUSY':
      return new BusyError(message);
  }
  // The server's own HTTP-layer errors: a body over its limit is bad input like any other.
  if (status === 413) return new ValidationError(message, true);
  if (status === 400) return new ValidationError(message);
  const named = code === '' ? `HTTP ${status}` : `HTTP ${status} ${code}`;
  return new RingkvError(`node ${node} answered ${named}: ${message}`);
}

function parseErrorBody(text: string): ErrorBody | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as ErrorBody) : null;
  } catch {
    return null;
  }
}

/** A count from the body, or -1 when the server sent none (never a made-up quorum figure). */
function countOf(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : -1;
}
