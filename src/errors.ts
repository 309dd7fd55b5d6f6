/**
 * Errors users can match on (`err instanceof QuorumError`) and act on. Each carries a stable
 * `code` for the HTTP layer and for clients in other languages.
 */
export class RingkvError extends Error {
  readonly code: string = 'RINGKV_ERROR';
}

/** Bad input, rejected before any message is sent. HTTP 400 (413 when `tooLarge`). */
export class ValidationError extends RingkvError {
  override name = 'ValidationError';
  override readonly code = 'VALIDATION';
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** Fewer than the required replicas answered within the request timeout. HTTP 503. */
export class QuorumError extends RingkvError {
  override name = 'QuorumError';
  override readonly code = 'QUORUM';
  constructor(
    message: string,
    /** Replies the request needed (R or W). */
    readonly needed: number,
    /** Replies it got. */
    readonly acked: number,
  ) {
    super(message);
  }
}

/** The coordinator itself did not answer in time (dead or stalled node). HTTP 504. */
export class TimeoutError extends RingkvError {
  override name = 'TimeoutError';
  override readonly code = 'TIMEOUT';
}

/** The cluster was closed, or no node that could coordinate the request is running. HTTP 503. */
export class UnavailableError extends RingkvError {
  override name = 'UnavailableError';
  override readonly code = 'UNAVAILABLE';
}

/** The coordinating node has too many requests in flight; retry later. HTTP 503. */
export class OverloadError extends RingkvError {
  override name = 'OverloadError';
  override readonly code = 'OVERLOAD';
}

/**
 * The key has more siblings than the limit (siblingsMax): read it and write back with its
 * context to resolve them before writing blindly again. HTTP 409.
 */
export class SiblingLimitError extends RingkvError {
  override name = 'SiblingLimitError';
  override readonly code = 'SIBLING_LIMIT';
}

/**
 * The coordinating node holds more data than its bound (`storageBytesMax`) and takes no new
 * values: delete keys, raise the bound, or add nodes. Reads and deletes go on. HTTP 507, RESP
 * `-OOM` (Redis's answer past `maxmemory`).
 */
export class StorageFullError extends RingkvError {
  override name = 'StorageFullError';
  override readonly code = 'STORAGE_FULL';
}

/**
 * Another membership change (addNode, removeNode) is still running; retry once it has
 * committed. HTTP 409.
 */
export class BusyError extends RingkvError {
  override name = 'BusyError';
  override readonly code = 'BUSY';
}
