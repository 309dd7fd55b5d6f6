/**
 * Everything that crosses a node boundary: peer messages between nodes, and client requests and
 * results between a client and its coordinator. One discriminated union per direction, tagged
 * by `type` / `op`. Tags are append-only: never reuse or rename one; bump PROTOCOL_VERSION when a
 * message's meaning changes.
 *
 * Messages arriving from another thread or process are untrusted: `parsePeerMessage` checks them
 * at the boundary and returns null for anything malformed, so a listener never throws.
 */

import { isRingState, type RingChange, type RingState } from './ring-state.js';
import type { MemberRecord, SwimMessage } from './swim.js';
import type { Dot, KeyRecord, NodeId, Sibling, VersionVector } from './types.js';

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
  /** Set when the receiver stands in for this down replica (sloppy quorum): keep it as a hint. */
  readonly hintFor?: NodeId;
  /** The request's trace id (ClientRequest.trace), for logs; no protocol meaning. */
  readonly trace?: string;
}

/** Replica → coordinator: I will not store this write (my hint queue for its owner is full). */
export interface ReplicaPutNack {
  readonly type: 'replica-put-nack';
  readonly v: number;
  readonly opId: number;
  readonly reason: string;
}

/** Replica → coordinator: the sibling of `opId` is durable here. */
export interface ReplicaPutAck {
  readonly type: 'replica-put-ack';
  readonly v: number;
  readonly opId: number;
  /** When the write reached the replica, on its clock (latency-meter.ts); no protocol meaning. */
  readonly receivedAtMs?: number;
}

/** Coordinator → replica: send your record for `key`. */
export interface ReplicaGet {
  readonly type: 'replica-get';
  readonly v: number;
  readonly opId: number;
  readonly key: string;
  /** Set when the receiver stands in for this down replica: answer from its hints. */
  readonly hintFor?: NodeId;
  /** The request's trace id (ClientRequest.trace), for logs; no protocol meaning. */
  readonly trace?: string;
}

/** Replica → coordinator: my record for the key of `opId` (null when I hold nothing). */
export interface ReplicaGetReply {
  readonly type: 'replica-get-reply';
  readonly v: number;
  readonly opId: number;
  readonly record: KeyRecord | null;
  /** When the read reached the replica, on its clock (latency-meter.ts); no protocol meaning. */
  readonly receivedAtMs?: number;
}

/** A node that cannot coordinate a put (it is not a replica of the key) hands it to one that can. */
export interface Forward {
  readonly type: 'forward';
  readonly v: number;
  readonly fwdId: number;
  readonly request: DataRequest;
  /** The request's trace id (ClientRequest.trace), for logs; no protocol meaning. */
  readonly trace?: string;
}

/** The answer to a Forward, relayed to the original client. */
export interface ForwardReply {
  readonly type: 'forward-reply';
  readonly v: number;
  readonly fwdId: number;
  readonly result: ClientResult;
}

/** Coordinator → stale replica after a get: merge this record (read repair). No answer. */
export interface Repair {
  readonly type: 'repair';
  readonly v: number;
  readonly key: string;
  readonly record: KeyRecord;
  /** The request's trace id (ClientRequest.trace), for logs; no protocol meaning. */
  readonly trace?: string;
}

/**
 * Reap, phase 1 — coordinator → every node, a grace period after every primary was seen holding
 * the same tombstones: may the key be removed? A node answers ok only if it holds no hint for
 * the key, coordinates no operation on it, has no write to it pending, and (a primary) still
 * holds exactly these dots. Anything else could carry an older version back after the reap.
 */
export interface ReapCheck {
  readonly type: 'reap-check';
  readonly v: number;
  readonly checkId: number;
  readonly key: string;
  readonly dots: readonly Dot[];
}

export interface ReapCheckReply {
  readonly type: 'reap-check-reply';
  readonly v: number;
  readonly checkId: number;
  readonly ok: boolean;
}

/**
 * Reap, phase 2 — coordinator → every primary, once every node answered ok: remove the key if
 * it still holds exactly these dots (and nothing newer).
 */
export interface Reap {
  readonly type: 'reap';
  readonly v: number;
  readonly key: string;
  readonly dots: readonly Dot[];
}

/** Hint holder → returning owner: merge these records, then ack the batch. */
export interface Handoff {
  readonly type: 'handoff';
  readonly v: number;
  readonly batchId: number;
  readonly entries: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>;
}

/** Owner → hint holder: every record of the batch is durable here; drop those hints. */
export interface HandoffAck {
  readonly type: 'handoff-ack';
  readonly v: number;
  readonly batchId: number;
}

/** A probe to a peer suspected down; any answer (or any message) clears the suspicion. */
export interface Ping {
  readonly type: 'ping';
  readonly v: number;
}

export interface Pong {
  readonly type: 'pong';
  readonly v: number;
}

/**
 * Anti-entropy (anti-entropy.ts), initiator → peer: the roots of the Merkle trees of every
 * partition both replicate. The peer answers with the partitions whose roots differ.
 */
export interface AeRoots {
  readonly type: 'ae-roots';
  readonly v: number;
  readonly xid: number;
  readonly partitions: readonly number[];
  readonly roots: readonly number[];
}

export interface AeRootsReply {
  readonly type: 'ae-roots-reply';
  readonly v: number;
  readonly xid: number;
  readonly differing: readonly number[];
}

/** Initiator → peer: the child hashes (inner nodes) or buckets (leaves) at these paths. */
export interface AeDescend {
  readonly type: 'ae-descend';
  readonly v: number;
  readonly xid: number;
  readonly partition: number;
  readonly paths: ReadonlyArray<readonly number[]>;
}

export interface AeDescendReply {
  readonly type: 'ae-descend-reply';
  readonly v: number;
  readonly xid: number;
  readonly partition: number;
  /** For inner paths: the child hashes; for leaf paths: the bucket's [key, hash] pairs. */
  readonly nodes: ReadonlyArray<{
    readonly path: readonly number[];
    readonly hashes?: readonly number[];
    readonly bucket?: ReadonlyArray<readonly [string, number]>;
  }>;
}

/** Initiator → peer: merge my records of differing keys, and send me yours of `want`. */
export interface AePush {
  readonly type: 'ae-push';
  readonly v: number;
  readonly xid: number;
  readonly records: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>;
  readonly want: readonly string[];
}

export interface AePushReply {
  readonly type: 'ae-push-reply';
  readonly v: number;
  readonly xid: number;
  readonly records: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>;
}

/** The sender's ring state: pushed on every change and sent to a peer whose version is older. */
export interface RingPush {
  readonly type: 'ring';
  readonly v: number;
  readonly state: RingState;
}

/** Ring gossip: my ring version; a peer with a newer ring answers with it (`ring`). */
export interface RingVersion {
  readonly type: 'ring-version';
  readonly v: number;
  readonly version: number;
  readonly claimant: NodeId;
}

/**
 * Sender → new replica during a membership change (or a drain after it): merge these records of
 * `partition` and ack once durable. `version` is the sender's ring version, for logs.
 */
export interface Transfer {
  readonly type: 'transfer';
  readonly v: number;
  /** The sender's ring state (version, claimant): a receiver behind it asks for it first. */
  readonly version: number;
  readonly claimant: NodeId;
  readonly batchId: number;
  readonly partition: number;
  readonly entries: ReadonlyArray<{ readonly key: string; readonly record: KeyRecord }>;
}

export interface TransferAck {
  readonly type: 'transfer-ack';
  readonly v: number;
  readonly batchId: number;
}

/** Departing node → claimant: I hold nothing of the ring's data any more. */
export interface Departed {
  readonly type: 'departed';
  readonly v: number;
  readonly version: number;
}

/** Sender → claimant: I streamed every partition the change at `version` asked of me. */
export interface TransferDone {
  readonly type: 'transfer-done';
  readonly v: number;
  readonly version: number;
}

/** Gossip membership and failure detection (membership.ts), carried as one peer message. */
export interface Member {
  readonly type: 'member';
  readonly v: number;
  readonly m: SwimMessage;
}

export type PeerMessage =
  | ReplicaPut
  | ReplicaPutAck
  | ReplicaPutNack
  | ReplicaGet
  | ReplicaGetReply
  | Forward
  | ForwardReply
  | Repair
  | ReapCheck
  | ReapCheckReply
  | Reap
  | Handoff
  | HandoffAck
  | Ping
  | Pong
  | AeRoots
  | AeRootsReply
  | AeDescend
  | AeDescendReply
  | AePush
  | AePushReply
  | RingPush
  | RingVersion
  | Transfer
  | TransferAck
  | TransferDone
  | Departed
  | Member;

/** A put (value = bytes) or delete (value = null) with the context the client saw. */
export interface PutRequest {
  readonly op: 'put';
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly context: VersionVector;
  readonly w: number;
  /** Acks that must come from primary replicas, not stand-ins (Riak's PW). @default 0 */
  readonly pw?: number;
  readonly timeoutMs: number;
  /**
   * The client's id for this logical write, the same on every retry: a coordinator that finds a
   * sibling with this id already written reuses it instead of creating a second one.
   */
  readonly rid?: string;
  /** The value expires this many ms after the coordinator's clock at the write (not with expiresAtMs). */
  readonly ttlMs?: number;
  /** The value expires at this Unix time in ms (not with ttlMs). Absent, with ttlMs: never. */
  readonly expiresAtMs?: number;
  /**
   * Follows the request into every log line it causes, on every node it reaches (see
   * isTraceId); the coordinator copies it into the messages it sends for the request.
   */
  readonly trace?: string;
  /**
   * `local`: the coordinating replica adds its own record's context to `context`, so the write
   * supersedes every version it holds for the key without a read round trip (a Redis SET).
   * Versions only other replicas hold stay siblings. A forward carries it to the replica.
   */
  readonly supersede?: 'local';
}

export interface GetRequest {
  readonly op: 'get';
  readonly key: string;
  readonly r: number;
  /** Replies that must come from primary replicas, not stand-ins (Riak's PR). @default 0 */
  readonly pr?: number;
  readonly timeoutMs: number;
  /** As PutRequest.trace. */
  readonly trace?: string;
}

/** Operator request: start a membership change; this node becomes its claimant. */
export interface RingChangeRequest {
  readonly op: 'ring-change';
  readonly change: RingChange;
  readonly timeoutMs: number;
  readonly trace?: string;
}

/** Operator request: this node's ring state and how far its transfers are. */
export interface RingStatusRequest {
  readonly op: 'ring-status';
  readonly timeoutMs: number;
  readonly trace?: string;
}

/** What a node reports about the membership change it takes part in. */
export interface TransferStatus {
  /** Partitions this node still has to stream for the running change. */
  readonly partitionsToSend: number;
  /** Keys held here for partitions this node no longer replicates, still to drain. */
  readonly keysToDrain: number;
  readonly batchesInFlight: number;
  /** Keys this node's moves sent (once per target), since it started. */
  readonly keysSent: number;
  /** Keys this node's drains sent (once per target), since it started. */
  readonly keysDrained: number;
  readonly keysReceived: number;
}

export type AdminRequest = RingChangeRequest | RingStatusRequest;

/** A request for a key's data (what a coordinator serves and a forward carries). */
export type DataRequest = PutRequest | GetRequest;

export type ClientRequest = PutRequest | GetRequest | AdminRequest;

export type ClientResult =
  | {
      readonly ok: true;
      readonly op: 'put';
      readonly acked: number;
      readonly coordinator: NodeId;
      /** Some ack that counted came from a stand-in holding a hint, not a primary replica. */
      readonly sloppy: boolean;
      /** Siblings the key has after this write, on the coordinator. */
      readonly siblings: number;
    }
  | {
      readonly ok: true;
      readonly op: 'get';
      /** The reconciled record of every replica that answered (null: no replica holds the key). */
      readonly record: KeyRecord | null;
      /**
       * The record's encoded context (core/context.ts), when the node's host made it already,
       * off the client's thread (the worker runtime). @default computed by the client from record
       */
      readonly context?: string;
      readonly replies: number;
      readonly coordinator: NodeId;
      /** Some reply that counted came from a stand-in, not a primary replica. */
      readonly sloppy: boolean;
    }
  | {
      readonly ok: false;
      readonly error: 'quorum';
      readonly needed: number;
      readonly acked: number;
    }
  | { readonly ok: true; readonly op: 'ring-change'; readonly state: RingState }
  | {
      readonly ok: true;
      readonly op: 'ring-status';
      readonly state: RingState;
      readonly transfer: TransferStatus;
    }
  /** Another membership change is running; retry once it committed. */
  | { readonly ok: false; readonly error: 'busy'; readonly message: string }
  | { readonly ok: false; readonly error: 'invalid'; readonly message: string }
  | { readonly ok: false; readonly error: 'timeout'; readonly message: string }
  | { readonly ok: false; readonly error: 'unavailable'; readonly message: string }
  /** The node coordinates too many requests already; retry later or elsewhere. */
  | { readonly ok: false; readonly error: 'overload'; readonly message: string }
  /** The coordinator holds more data than its bound (limits.storageBytesMax). */
  | { readonly ok: false; readonly error: 'full'; readonly message: string }
  /** The key has too many siblings; read it and write back with its context to resolve them. */
  | { readonly ok: false; readonly error: 'conflict'; readonly message: string };

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
  if (x.rid !== undefined && typeof x.rid !== 'string') return false;
  if (!isOptionalCount(x.expiresAtMs)) return false;
  return x.value === null || x.value instanceof Uint8Array;
}

function isRecord(x: unknown): x is KeyRecord {
  return isObject(x) && Array.isArray(x.siblings) && x.siblings.every(isSibling);
}

function isOptionalCount(x: unknown): boolean {
  return x === undefined || isCount(x);
}

/** An optional latency stamp: a finite number of ms (any clock; sanity-checked where used). */
function isOptionalStamp(x: unknown): boolean {
  return x === undefined || (typeof x === 'number' && Number.isFinite(x));
}

function isOptionalNode(x: unknown): boolean {
  return x === undefined || (typeof x === 'string' && x.length > 0);
}

/** Longest trace id, in characters. */
export const TRACE_ID_LENGTH_MAX = 128;
const TRACE_ID = /^[\x20-\x7e]{1,128}$/;

/** A trace id is 1..TRACE_ID_LENGTH_MAX printable ASCII characters (safe in a header and a log). */
export function isTraceId(x: unknown): x is string {
  return typeof x === 'string' && x.length <= TRACE_ID_LENGTH_MAX && TRACE_ID.test(x);
}

function isOptionalTrace(x: unknown): boolean {
  return x === undefined || isTraceId(x);
}

function isRingChange(x: unknown): x is RingChange {
  if (!isObject(x) || typeof x.node !== 'string' || x.node.length === 0) return false;
  return x.kind === 'join' || x.kind === 'leave' || x.kind === 'remove';
}

function isClientRequest(x: unknown): x is ClientRequest {
  if (!isObject(x) || !isCount(x.timeoutMs) || !isOptionalTrace(x.trace)) return false;
  if (x.op === 'ring-status') return true;
  if (x.op === 'ring-change') return isRingChange(x.change);
  if (typeof x.key !== 'string') return false;
  if (x.op === 'get') return isCount(x.r) && isOptionalCount(x.pr);
  if (!isOptionalCount(x.pw)) return false;
  if (x.op !== 'put' || !isCount(x.w) || !isVersionVector(x.context)) return false;
  if (x.rid !== undefined && typeof x.rid !== 'string') return false;
  if (x.supersede !== undefined && x.supersede !== 'local') return false;
  if (!isOptionalCount(x.ttlMs) || !isOptionalCount(x.expiresAtMs)) return false;
  return x.value === null || x.value instanceof Uint8Array;
}

function isClientResult(x: unknown): x is ClientResult {
  return isObject(x) && typeof x.ok === 'boolean';
}

/** Shape checks per message type, beyond the common `type`, `v` and id fields. */
const BODY_CHECKS: Record<PeerMessage['type'], (m: Record<string, unknown>) => boolean> = {
  'replica-put': (m) =>
    isCount(m.opId) &&
    typeof m.key === 'string' &&
    isRecord(m.record) &&
    isOptionalNode(m.hintFor) &&
    isOptionalTrace(m.trace),
  'replica-put-ack': (m) => isCount(m.opId) && isOptionalStamp(m.receivedAtMs),
  'replica-put-nack': (m) => isCount(m.opId) && typeof m.reason === 'string',
  'replica-get': (m) =>
    isCount(m.opId) &&
    typeof m.key === 'string' &&
    isOptionalNode(m.hintFor) &&
    isOptionalTrace(m.trace),
  'replica-get-reply': (m) =>
    isCount(m.opId) && (m.record === null || isRecord(m.record)) && isOptionalStamp(m.receivedAtMs),
  forward: (m) =>
    isCount(m.fwdId) &&
    isClientRequest(m.request) &&
    (m.request.op === 'put' || m.request.op === 'get') &&
    isOptionalTrace(m.trace),
  'forward-reply': (m) => isCount(m.fwdId) && isClientResult(m.result),
  repair: (m) => typeof m.key === 'string' && isRecord(m.record) && isOptionalTrace(m.trace),
  'reap-check': (m) => isCount(m.checkId) && typeof m.key === 'string' && isDots(m.dots),
  'reap-check-reply': (m) => isCount(m.checkId) && typeof m.ok === 'boolean',
  reap: (m) => typeof m.key === 'string' && isDots(m.dots),
  handoff: (m) => isCount(m.batchId) && Array.isArray(m.entries) && m.entries.every(isHandoffEntry),
  'handoff-ack': (m) => isCount(m.batchId),
  ping: () => true,
  pong: () => true,
  'ae-roots': (m) =>
    isCount(m.xid) &&
    isCounts(m.partitions) &&
    isHashes(m.roots) &&
    m.roots.length === m.partitions.length,
  'ae-roots-reply': (m) => isCount(m.xid) && isCounts(m.differing),
  'ae-descend': (m) =>
    isCount(m.xid) && isCount(m.partition) && Array.isArray(m.paths) && m.paths.every(isCounts),
  'ae-descend-reply': (m) =>
    isCount(m.xid) && isCount(m.partition) && Array.isArray(m.nodes) && m.nodes.every(isAeNode),
  'ae-push': (m) =>
    isCount(m.xid) &&
    Array.isArray(m.records) &&
    m.records.every(isHandoffEntry) &&
    Array.isArray(m.want) &&
    m.want.every((k) => typeof k === 'string'),
  'ae-push-reply': (m) =>
    isCount(m.xid) && Array.isArray(m.records) && m.records.every(isHandoffEntry),
  ring: (m) => isRingState(m.state),
  'ring-version': (m) => isCount(m.version) && typeof m.claimant === 'string',
  transfer: (m) =>
    isCount(m.version) &&
    typeof m.claimant === 'string' &&
    isCount(m.batchId) &&
    isCount(m.partition) &&
    Array.isArray(m.entries) &&
    m.entries.every(isHandoffEntry),
  'transfer-ack': (m) => isCount(m.batchId),
  'transfer-done': (m) => isCount(m.version),
  departed: (m) => isCount(m.version),
  member: (m) => isSwimMessage(m.m),
};

const MEMBER_STATUSES: ReadonlySet<unknown> = new Set(['alive', 'suspect', 'dead', 'left']);

function isMemberRecord(x: unknown): x is MemberRecord {
  if (!isObject(x) || !isNodeId(x.id) || !isCount(x.incarnation)) return false;
  if (!MEMBER_STATUSES.has(x.status) || !isOptionalCount(x.heartbeat)) return false;
  return x.suspectedBy === undefined || isNodeId(x.suspectedBy);
}

function isNodeId(x: unknown): x is NodeId {
  return typeof x === 'string' && x.length > 0;
}

function isSwimMessage(x: unknown): x is SwimMessage {
  if (!isObject(x) || !isNodeId(x.from)) return false;
  switch (x.type) {
    case 'm-gossip':
      return (
        typeof x.reply === 'boolean' && Array.isArray(x.records) && x.records.every(isMemberRecord)
      );
    case 'm-ping':
      return isCount(x.seq);
    case 'm-ack':
      return isCount(x.seq) && isMemberRecord(x.record);
    case 'm-ping-req':
      return isCount(x.seq) && isNodeId(x.target);
    default:
      return false;
  }
}

function isCounts(x: unknown): x is number[] {
  return Array.isArray(x) && x.every(isCount);
}

function isHashes(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((h) => typeof h === 'number' && Number.isFinite(h));
}

function isAeNode(x: unknown): boolean {
  if (!isObject(x) || !isCounts(x.path)) return false;
  if (x.hashes !== undefined) return isHashes(x.hashes);
  return (
    Array.isArray(x.bucket) &&
    x.bucket.every(
      (e) =>
        Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'number',
    )
  );
}

function isDots(x: unknown): boolean {
  return Array.isArray(x) && x.every(isDot);
}

function isHandoffEntry(x: unknown): boolean {
  return isObject(x) && typeof x.key === 'string' && isRecord(x.record);
}

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
