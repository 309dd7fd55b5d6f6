/**
 * Query-string validation for the key routes. Values are checked here, before the client is
 * called: `r`, `w` and `timeout_ms` must be plain positive decimal integers, `pr` and `pw`
 * non-negative ones. Unknown or repeated
 * parameters are rejected too, so a typo (`?W=3`) never silently falls back to a default.
 */
import { ValidationError } from '../errors.js';

export type QueryName = 'r' | 'w' | 'pr' | 'pw' | 'timeout_ms';

export interface RequestQuery {
  readonly r?: number;
  readonly w?: number;
  /** Replies (pr) or acks (pw) that must come from the key's own replicas; 0 allowed. */
  readonly pr?: number;
  readonly pw?: number;
  readonly timeoutMs?: number;
}

/** Quorum sizes above this are nonsense for any cluster; the client checks the real bound (n). */
const QUORUM_MAX = 1024;
const DECIMAL = /^[0-9]+$/;

/**
 * Parses the raw query (without `?`). Only the names in `allowed` may appear; `timeout_ms` must
 * not exceed `timeoutMsMax` (the server's own request timeout, which would cut the call short).
 */
export function parseQuery(
  query: string,
  allowed: readonly QueryName[],
  timeoutMsMax: number,
): RequestQuery {
  const params = new URLSearchParams(query);
  const result: { r?: number; w?: number; pr?: number; pw?: number; timeoutMs?: number } = {};
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new ValidationError(
        `unknown query parameter '${name}' (allowed: ${allowed.join(', ')})`,
      );
    }
    if (seen.has(name)) throw new ValidationError(`query parameter '${name}' given more than once`);
    seen.add(name);
    if (name === 'timeout_ms') result.timeoutMs = parseIntegerParam(name, value, timeoutMsMax);
    else if (name === 'r') result.r = parseIntegerParam(name, value, QUORUM_MAX);
    else if (name === 'w') result.w = parseIntegerParam(name, value, QUORUM_MAX);
    else if (name === 'pr') result.pr = parseIntegerParam(name, value, QUORUM_MAX, 0);
    else result.pw = parseIntegerParam(name, value, QUORUM_MAX, 0);
  }
  return result;
}

/** A decimal integer in min..max, or a ValidationError naming the parameter. */
export function parseIntegerParam(name: string, value: string, max: number, min = 1): number {
  const parsed = DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ValidationError(
      `query parameter '${name}' must be an integer in ${min}..${max}, got '${value}'`,
    );
  }
  return parsed;
}
