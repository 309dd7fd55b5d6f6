/**
 * What a node id may look like, for every layer that reads one from outside (the admin API, the
 * membership file, storage directory names). Ids appear in URLs, log lines and file names.
 */

/** Longest node id, in characters. */
export const NODE_ID_LENGTH_MAX = 64;
/** Letters, digits, `.`, `_` and `-`; no separators, so an id cannot escape a directory. */
export const NODE_ID_PATTERN = new RegExp(`^[A-Za-z0-9._-]{1,${NODE_ID_LENGTH_MAX}}$`);

export function isNodeIdText(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}
