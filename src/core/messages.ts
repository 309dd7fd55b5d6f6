/**
 * Everything that crosses a node boundary: peer messages between nodes, and client requests and
 * results between a client and its coordinator. One discriminated union per direction, tagged
 * by `type` / `op`. Tags are append-only: never reuse or rename one; bump PROTOCOL_VERSION when a
 * message's meaning changes.
 *
 * Messages arriving from another thread or process are untrusted: `parsePeerMessage` checks them
 * at the boundary and returns null for anything malformed, so a listener never throws.
 */
import type { KeyRecord, NodeId, Sibling, VersionVector } from './types.js';

export const PROTOCOL_VERSION = 1;

/**
 * Coordinator → replica: merge the coordinator's whole record for the key (not just the new
 * sibling) and ack once it is durable. The whole record matters: a context is a plain version
 * vector, so a replica holding dot (a, k) must also hold, or cover, every (a, j < k); otherwise a
 * context read from it would cover a write the reader never saw, and a put with that context
 * would silently drop it.
 */
export interface ReplicaPut {
  readonly type: 'replica-put';
  readonly v: number;
  readonly opId: number;
  readonly key: string;
  readonly record: KeyRecord;
}

/** Replica → coordinator: the sibling of `opId` is durable here. */
export interface ReplicaPutAck {
  readonly type: 'replica-put-ack';
  readonly v: number;
  readonly opId: number;
}

/** Coordinator → replica: send your record for `key`. */
export interface ReplicaGet {
  readonly type: 'replica-get';
  readonly v: number;
  readonly opId: number;
  readonly key: string;
}

/** Replica → coordinator: my record for the key of `opId` (null when I hold nothing). */
export interface ReplicaGetReply {
  readonly type: 'replica-get-reply';
  readonly v: number;
  readonly opId: number;
  readonly record: KeyRecord | null;
}

/** A node that cannot coordinate a put (it is not a replica of the key) hands it to one that can. */
export interface Forward {
  readonly type: 'forward';
  readonly v: number;
  readonly fwdId: number;
  readonly request: ClientRequest;
}

/** The answer to a Forward, relayed to the original client. */
export interface ForwardReply {
  readonly type: 'forward-reply';
  readonly v: number;
  readonly fwdId: number;
  readonly result: ClientResult;
}

export type PeerMessage =
  | ReplicaPut
  | ReplicaPutAck
  | ReplicaGet
  | ReplicaGetReply
  | Forward
  | ForwardReply;

/** A put (value = bytes) or delete (value = null) with the context the client saw. */
export interface PutRequest {
  readonly op: 'put';
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly context: VersionVector;
  readonly w: number;
  readonly timeoutMs: number;
}

export interface GetRequest {
  readonly op: 'get';
  readonly key: string;
  readonly r: number;
  readonly timeoutMs: number;
}

export type ClientRequest = PutRequest | GetRequest;

export type ClientResult =
  | { readonly ok: true; readonly op: 'put'; readonly acked: number; readonly coordinator: NodeId }
  | {
      readonly ok: true;
      readonly op: 'get';
      /** The reconciled record of every replica that answered (null: no replica holds the key). */
      readonly record: KeyRecord | null;
      readonly replies: number;
      readonly coordinator: NodeId;
    }
  | {
      readonly ok: false;
      readonly error: 'quorum';
      readonly needed: number;
      readonly acked: number;
    }
  | { readonly ok: false; readonly error: 'invalid'; readonly message: string }
  | { readonly ok: false; readonly error: 'timeout'; readonly message: string }
  | { readonly ok: false; readonly error: 'unavailable'; readonly message: string };

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function isDot(x: unknown): boolean {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === 'string' && isCount(x[1]);
}

function isVersionVector(x: unknown): x is VersionVector {
  return Array.isArray(x) && x.every(isDot);
}

function isSibling(x: unknown): x is Sibling {
  if (!isObject(x) || !isDot(x.dot) || !isVersionVector(x.past)) return false;
  return x.value === null || x.value instanceof Uint8Array;
}

function isRecord(x: unknown): x is KeyRecord {
  return isObject(x) && Array.isArray(x.siblings) && x.siblings.every(isSibling);
}

function isClientRequest(x: unknown): x is ClientRequest {
  if (!isObject(x) || typeof x.key !== 'string' || !isCount(x.timeoutMs)) return false;
  if (x.op === 'get') return isCount(x.r);
  if (x.op !== 'put' || !isCount(x.w) || !isVersionVector(x.context)) return false;
  return x.value === null || x.value instanceof Uint8Array;
}

function isClientResult(x: unknown): x is ClientResult {
  return isObject(x) && typeof x.ok === 'boolean';
}

/** Shape checks per message type, beyond the common `type`, `v` and id fields. */
const BODY_CHECKS: Record<PeerMessage['type'], (m: Record<string, unknown>) => boolean> = {
  'replica-put': (m) => isCount(m.opId) && typeof m.key === 'string' && isRecord(m.record),
  'replica-put-ack': (m) => isCount(m.opId),
  'replica-get': (m) => isCount(m.opId) && typeof m.key === 'string',
  'replica-get-reply': (m) => isCount(m.opId) && (m.record === null || isRecord(m.record)),
  forward: (m) => isCount(m.fwdId) && isClientRequest(m.request),
  'forward-reply': (m) => isCount(m.fwdId) && isClientResult(m.result),
};

/** Returns the message when it is a well-formed PeerMessage of this protocol version, else null. */
export function parsePeerMessage(x: unknown): PeerMessage | null {
  if (!isObject(x) || x.v !== PROTOCOL_VERSION || typeof x.type !== 'string') return null;
  const check = BODY_CHECKS[x.type as PeerMessage['type']];
  if (check === undefined || !check(x)) return null;
  return x as unknown as PeerMessage;
}

/** Returns the request when it is a well-formed ClientRequest, else null. */
export function parseClientRequest(x: unknown): ClientRequest | null {
  return isClientRequest(x) ? x : null;
}
