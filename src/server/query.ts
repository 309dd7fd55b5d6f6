/**
 * Query-string validation for the key routes. Values are checked here, before the client is
 * called: `r`, `w` and `timeout_ms` must be plain positive decimal integers, `pr` and `pw`
 * non-negative ones, in the client's own ranges (client/validate.ts). Unknown or repeated
 * parameters are rejected too, so a typo (`?W=3`) never silently falls back to a default.
 * `supersede` is the one word-valued parameter: its only value is `local`.
 */
import { validateIntegerIn } from '../client/validate.js';
import {
  EXPIRES_AT_MS_MAX,
  NODES_MAX,
  PRIMARIES_MIN,
  QUORUM_MIN,
  TIMEOUT_MS_MIN,
  TTL_MS_MAX,
} from '../config.js';
import { ValidationError } from '../errors.js';

export type QueryName =
  | 'r'
  | 'w'
  | 'pr'
  | 'pw'
  | 'timeout_ms'
  | 'ttl_ms'
  | 'expires_at_ms'
  | 'supersede';

/** A put's supersede modes (PutOptions.supersede): `local` is the only one. */
export type SupersedeMode = 'local';

export interface RequestQuery {
  readonly r?: number;
  readonly w?: number;
  /** Replies (pr) or acks (pw) that must come from the key's own replicas; 0 allowed. */
  readonly pr?: number;
  readonly pw?: number;
  readonly timeoutMs?: number;
  /** A put's TTL in ms (1..TTL_MS_MAX), or its absolute deadline in Unix ms. */
  readonly ttlMs?: number;
  readonly expiresAtMs?: number;
  /** A put also supersedes what its coordinator holds for the key (PutOptions.supersede). */
  readonly supersede?: SupersedeMode;
}

/** Query names that differ from their RequestQuery field. */
const FIELD_OF: Readonly<Record<string, Exclude<keyof RequestQuery, 'supersede'>>> = {
  timeout_ms: 'timeoutMs',
  ttl_ms: 'ttlMs',
  expires_at_ms: 'expiresAtMs',
};

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
  const result: { -readonly [K in keyof RequestQuery]: RequestQuery[K] } = {};
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
    if (name === 'supersede') {
      result.supersede = parseSupersede(label, value);
      continue;
    }
    const [min, max] = rangeOf(name as QueryName, timeoutMsMax);
    result[FIELD_OF[name] ?? (name as 'r' | 'w' | 'pr' | 'pw')] = validateIntegerIn(
      label,
      parseDecimal(label, value),
      min,
      max,
    );
  }
  return result;
}

/** A parameter's range: the client's own lower bounds; NODES_MAX bounds every cluster's n. */
function rangeOf(name: QueryName, timeoutMsMax: number): readonly [number, number] {
  if (name === 'timeout_ms') return [TIMEOUT_MS_MIN, timeoutMsMax];
  if (name === 'ttl_ms') return [1, TTL_MS_MAX];
  if (name === 'expires_at_ms') return [1, EXPIRES_AT_MS_MAX];
  return [name === 'r' || name === 'w' ? QUORUM_MIN : PRIMARIES_MIN, NODES_MAX];
}

/** A supersede mode (`label` names where it came from, for the error), or a ValidationError. */
export function parseSupersede(label: string, value: string): SupersedeMode {
  if (value === 'local') return value;
  throw new ValidationError(`${label} must be 'local' (the only supersede mode), got '${value}'`);
}

/** Plain decimal digits as a number (the range is checked by the caller), or a ValidationError. */
function parseDecimal(label: string, value: string): number {
  const parsed = DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed)) {
    throw new ValidationError(`${label} must be a decimal integer, got '${value}'`);
  }
  return parsed;
}
