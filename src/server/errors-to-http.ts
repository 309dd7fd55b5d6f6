/**
 * Maps any thrown value to an HTTP status and a JSON body `{ error, code, ... }`. Anything that
 * is not a known ringkv or HTTP error becomes a generic 500 and is flagged `unexpected` so the
 * server logs it; its message is never sent to the caller.
 */
import {
  BusyError,
  OverloadError,
  QuorumError,
  SiblingLimitError,
  StorageFullError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../errors.js';
import { AdmissionRefusedError } from './admission.js';
import { HttpError } from './http-error.js';

export interface HttpErrorReply {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  /** True for a bug or an unknown failure: log it. */
  readonly unexpected: boolean;
}

export function errorToHttp(error: unknown): HttpErrorReply {
  if (error instanceof HttpError) {
    return known(error.status, error, error.headers);
  }
  if (error instanceof ValidationError) {
    return error.tooLarge ? known(413, error, {}, { tooLarge: true }) : known(400, error);
  }
  if (error instanceof QuorumError) {
    return known(503, error, {}, { needed: error.needed, acked: error.acked });
  }
  if (error instanceof TimeoutError) return known(504, error);
  if (error instanceof UnavailableError) return known(503, error);
  if (error instanceof AdmissionRefusedError) {
    return known(503, error, { 'Retry-After': String(error.retryAfterSeconds) });
  }
  if (error instanceof OverloadError) return known(503, error, { 'Retry-After': '1' });
  if (error instanceof SiblingLimitError) return known(409, error);
  if (error instanceof StorageFullError) return known(507, error);
  if (error instanceof BusyError) return known(409, error);
  return {
    status: 500,
    body: { error: 'internal server error', code: 'INTERNAL' },
    headers: {},
    unexpected: true,
  };
}

function known(
  status: number,
  error: Error & { readonly code: string },
  headers: Readonly<Record<string, string>> = {},
  extra: Readonly<Record<string, unknown>> = {},
): HttpErrorReply {
  return {
    status,
    body: { error: error.message, code: error.code, ...extra },
    headers,
    unexpected: false,
  };
}
