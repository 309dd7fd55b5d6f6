/**
 * Turns a coordinator's ClientResult into what users see: typed results, or named errors.
 */
import { encodeContext } from '../core/context.js';
import type { ClientResult } from '../core/messages.js';
import type { KeyRecord } from '../core/types.js';
import { contextOf, liveExpiries, liveValues } from '../core/version.js';
import {
  BusyError,
  OverloadError,
  QuorumError,
  type RingkvError,
  SiblingLimitError,
  StorageFullError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../errors.js';
import type { GetResult, PutResult } from './types.js';

const decoder = new TextDecoder();

/**
 * What a failed quorum means for the caller. A write some replicas acked is durable on them
 * (not undone): a lower w would have succeeded, and a retry with the same request id adds no
 * second version. A read that got some replies could have been answered at that r.
 */
function quorumHint(kind: QuorumKind, acked: number): string {
  if (kind === null || acked === 0) return '';
  const isRead = kind === 'read';
  const quorum = isRead ? 'r' : 'w';
  const stored = isRead ? '' : `; the write is stored on ${acked} replica(s) and is not undone`;
  return `; ${quorum}=${acked} would have succeeded${stored}`;
}

/** Which quorum a failed request waited for (null: not known, no hint). */
type QuorumKind = 'read' | 'write' | null;

export function toError(
  result: Extract<ClientResult, { ok: false }>,
  what: string,
  kind: QuorumKind = null,
): RingkvError {
  switch (result.error) {
    case 'quorum':
      return new QuorumError(
        `${what}: quorum not met (${result.acked} of ${result.needed} replicas answered)${quorumHint(kind, result.acked)}`,
        result.needed,
        result.acked,
      );
    case 'invalid':
      return new ValidationError(`${what}: ${result.message}`);
    case 'timeout':
      return new TimeoutError(`${what}: ${result.message}`);
    case 'unavailable':
      return new UnavailableError(`${what}: ${result.message}`);
    case 'overload':
      return new OverloadError(`${what}: ${result.message}`);
    case 'full':
      return new StorageFullError(`${what}: ${result.message}`);
    case 'conflict':
      return new SiblingLimitError(`${what}: ${result.message}`);
    case 'busy':
      return new BusyError(`${what}: ${result.message}`);
  }
}

export function toPutResult(result: ClientResult, w: number, what: string): PutResult {
  if (!result.ok) throw toError(result, what, 'write');
  if (result.op !== 'put')
    throw new Error(`${what}: coordinator answered a put with a ${result.op}`);
  return {
    acked: result.acked,
    w,
    coordinator: result.coordinator,
    sloppy: result.sloppy,
    siblings: result.siblings,
  };
}

export function toGetResult(result: ClientResult, r: number, what: string): GetResult {
  if (!result.ok) throw toError(result, what, 'read');
  if (result.op !== 'get')
    throw new Error(`${what}: coordinator answered a get with a ${result.op}`);
  return makeGetResult(result.record, result.replies, r, result.sloppy, result.context);
}

export function makeGetResult(
  record: KeyRecord | null,
  replies: number,
  r: number,
  sloppy: boolean,
  encodedContext?: string,
): GetResult {
  const values = record === null ? [] : liveValues(record);
  const context = record === null ? '' : (encodedContext ?? encodeContext(contextOf(record)));
  return getResultOf(values, context, {
    replies,
    r,
    sloppy,
    siblings: record?.siblings.length ?? 0,
    expiresAtMs: record === null ? [] : liveExpiries(record),
  });
}

/** What a GetResult says besides its values and context. */
export interface GetResultMeta {
  readonly replies: number;
  readonly r: number;
  readonly sloppy: boolean;
  readonly siblings: number;
  /** Each value's deadline (Unix ms), aligned with the values; null: never. @default all null */
  readonly expiresAtMs?: readonly (number | null)[];
}

/**
 * A GetResult from live values and an encoded context: for clients that receive those rather
 * than a KeyRecord (the remote client over HTTP).
 */
export function getResultOf(
  values: readonly Uint8Array[],
  context: string,
  meta: GetResultMeta,
): GetResult {
  const expiresAtMs = meta.expiresAtMs ?? values.map(() => null);
  if (expiresAtMs.length !== values.length) {
    throw new Error(`${expiresAtMs.length} deadlines for ${values.length} values`);
  }
  return {
    found: values.length > 0,
    values,
    context,
    ...meta,
    expiresAtMs,
    // Bound module functions, not arrow closures: under tsx (keepNames) each named arrow made per
    // request also costs a defineProperty of its name, and this runs for every get.
    strings: stringsOf.bind(null, values),
    json: jsonOf.bind(null, values) as GetResult['json'],
  };
}

function stringsOf(values: readonly Uint8Array[]): string[] {
  return values.map((v) => decoder.decode(v));
}

function jsonOf<T>(values: readonly Uint8Array[]): T[] {
  return values.map((v) => JSON.parse(decoder.decode(v)) as T);
}
