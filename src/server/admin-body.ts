/**
 * JSON bodies of the admin routes: read with a size cap, parsed, and checked for shape. A body
 * that is not JSON or has the wrong shape is a ValidationError (400); whether the node ids and
 * values make sense is checked by the cluster, which answers with a ValidationError too.
 */
import type { AddNodeOptions, NetworkOptions } from '../client/types.js';
import { ValidationError } from '../errors.js';

/** Largest admin body accepted (a partition of 64 nodes takes well under 1 KiB). */
export const ADMIN_BODY_MAX_BYTES = 64 * 1024;
/** Most groups, and most ids per group, a partition body may list. */
const GROUP_ITEMS_MAX = 1024;

export function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('request body must be JSON');
  }
}

/** `{"groups": [["n1","n2"],["n3"]]}` → the groups. */
export function parsePartitionBody(json: unknown): string[][] {
  const { groups } = objectWith(json, ['groups'], 'partition');
  const shape = 'groups must be a list of lists of node ids, e.g. [["n1","n2"],["n3"]]';
  if (!Array.isArray(groups) || groups.length > GROUP_ITEMS_MAX) throw new ValidationError(shape);
  return groups.map((group: unknown) => {
    if (!Array.isArray(group) || group.length > GROUP_ITEMS_MAX) throw new ValidationError(shape);
    if (!group.every((id: unknown) => typeof id === 'string')) throw new ValidationError(shape);
    return group as string[];
  });
}

/** `{"delay_ms":5,"jitter_ms":1,"loss":0.01}` (each field optional) → network options. */
export function parseNetworkBody(json: unknown): NetworkOptions {
  const fields = objectWith(json, ['delay_ms', 'jitter_ms', 'loss'], 'network');
  const number = (name: string): number | undefined => {
    const value = fields[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number') throw new ValidationError(`${name} must be a number`);
    return value;
  };
  const options: { delayMs?: number; jitterMs?: number; lossRate?: number } = {};
  const delayMs = number('delay_ms');
  const jitterMs = number('jitter_ms');
  const lossRate = number('loss');
  if (delayMs !== undefined) options.delayMs = delayMs;
  if (jitterMs !== undefined) options.jitterMs = jitterMs;
  if (lossRate !== undefined) options.lossRate = lossRate;
  return options;
}

/** `{"id":"n7"}`, `{}` or no body at all → the options of addNode. */
export function parseAddNodeBody(body: Buffer): AddNodeOptions {
  if (body.toString('utf8').trim() === '') return {};
  const { id } = objectWith(parseJson(body), ['id'], 'add node');
  if (id === undefined) return {};
  if (typeof id !== 'string') throw new ValidationError('id must be a string');
  return { id };
}

/** A plain JSON object whose keys are all in `allowed`. */
function objectWith(
  json: unknown,
  allowed: readonly string[],
  what: string,
): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ValidationError(`${what} body must be a JSON object`);
  }
  const unknown = Object.keys(json).find((key) => !allowed.includes(key));
  if (unknown !== undefined) {
    throw new ValidationError(
      `unknown field ${JSON.stringify(unknown)} in ${what} body (allowed: ${allowed.join(', ')})`,
    );
  }
  return json as Record<string, unknown>;
}
