/**
 * Query-string validation for the key routes. Values are checked here, before the client is
 * called: `r`, `w` and `timeout_ms` must be plain positive decimal integers, `pr` and `pw`
 * non-negative ones, in the client's own ranges (client/validate.ts). Unknown or repeated
 * parameters are rejected too, so a typo (`?W=3`) never silently falls back to a default.
 */
import {
  PRIMARIES_MIN,
  QUORUM_MIN,
  validateIntegerIn,
  validateTimeout,
} from '../client/validate.js';
import { NODES_MAX } from '../config.js';
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

const DECIMAL = /^[0-9]+$/;

/**
 * Parses the raw query (without `?`). Only the names in `allowed` may appear; `timeout_ms` must
 * not exceed `timeoutMsMax` (the server's own request timeout, which would cut the call short).
 * A quorum or primaries count is checked against NODES_MAX here (no cluster's n is larger); the
 * client then checks it against the cluster's real n.
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
    const label = `query parameter '${name}'`;
    const parsed = parseDecimal(label, value);
    if (name === 'timeout_ms') result.timeoutMs = validateTimeout(parsed, 0, timeoutMsMax, label);
    else if (name === 'r') result.r = validateIntegerIn(label, parsed, QUORUM_MIN, NODES_MAX);
    else if (name === 'w') result.w = validateIntegerIn(label, parsed, QUORUM_MIN, NODES_MAX);
    else if (name === 'pr') result.pr = validateIntegerIn(label, parsed, PRIMARIES_MIN, NODES_MAX);
    else result.pw = validateIntegerIn(label, parsed, PRIMARIES_MIN, NODES_MAX);
  }
  return result;
}

/** Plain decimal digits as a number (the range is checked by the caller), or a ValidationError. */
function parseDecimal(label: string, value: string): number {
  const parsed = DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed)) {
    throw new ValidationError(`${label} must be a decimal integer, got '${value}'`);
  }
  return parsed;
}
