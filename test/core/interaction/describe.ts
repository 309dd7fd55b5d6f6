/**
 * One-line summaries of what crosses a NodeCore boundary, for golden traces: records as their
 * siblings (`[n1.a:1=x n2.a:1=⊥]`), peer messages by type with the fields that carry meaning,
 * client results, ring states and persist batches. Never a raw object dump, and nothing whose
 * order is not fixed by the protocol itself.
 */
import type {
  ClientResult,
  Member,
  PeerMessage,
  TransferStatus,
} from '../../../src/core/messages.js';
import type { RingState } from '../../../src/core/ring-state.js';
import {
  type Dot,
  type KeyRecord,
  type NodeId,
  type PersistWrite,
  parseHintKey,
  type Sibling,
  type VersionVector,
} from '../../../src/core/types.js';
import type { IdNames } from './names.js';

const decoder = new TextDecoder();

export function describeDot([actor, counter]: Dot): string {
  return `${actor}:${counter}`;
}

function describeVector(vv: VersionVector): string {
  return vv.map(([actor, counter]) => `${actor}:${counter}`).join(',');
}

/** `n1.a:2=y` — with `<past>` when the writer had seen something, `(rid)` when it sent one. */
export function describeSibling(s: Sibling): string {
  const value = s.value === null ? '⊥' : decoder.decode(s.value);
  const past = s.past.length === 0 ? '' : `<${describeVector(s.past)}>`;
  const rid = s.rid === undefined ? '' : `(${s.rid})`;
  return `${describeDot(s.dot)}=${value}${past}${rid}`;
}

export function describeRecord(record: KeyRecord | null | undefined): string {
  if (record === null || record === undefined) return '[]';
  return `[${record.siblings.map(describeSibling).join(' ')}]`;
}

function describeDots(dots: readonly Dot[]): string {
  return `{${dots.map(describeDot).join(' ')}}`;
}

function describeEntries(entries: ReadonlyArray<{ key: string; record: KeyRecord }>): string {
  if (entries.length === 0) return '-';
  return entries.map(({ key, record }) => `${key}=${describeRecord(record)}`).join(' ');
}

/** A Merkle tree path as the child indexes from the root, `/` for the root itself. */
function describePath(path: readonly number[]): string {
  return `/${path.join('/')}`;
}

type AeNode = Extract<PeerMessage, { type: 'ae-descend-reply' }>['nodes'][number];

function describeAeNode(node: AeNode): string {
  if (node.bucket !== undefined) {
    return `${describePath(node.path)}{${node.bucket.map(([key]) => key).join(' ')}}`;
  }
  return `${describePath(node.path)}#${node.hashes?.length ?? 0}`;
}

/** Owners as one character per partition (node `nK` → `K`): compact and exact. */
function describeOwners(owners: readonly NodeId[] | null): string {
  if (owners === null) return '-';
  return owners.map((owner) => owner.replace(/^n/, '')).join('');
}

function describeNodes(nodes: readonly NodeId[]): string {
  return nodes.length === 0 ? '-' : nodes.join(',');
}

export function describeRingState(state: RingState): string {
  const taken =
    state.changeVersion === state.version ? '' : ` changeVersion=${state.changeVersion}`;
  return (
    `v${state.version} claimant=${state.claimant} owners=${describeOwners(state.owners)} ` +
    `next=${describeOwners(state.next)} removed=${describeNodes(state.removed)} ` +
    `departing=${describeNodes(state.departing)}${taken}`
  );
}

function describeTransferStatus(t: TransferStatus): string {
  return (
    `toSend=${t.partitionsToSend} toDrain=${t.keysToDrain} batches=${t.batchesInFlight} ` +
    `sent=${t.keysSent} drained=${t.keysDrained} received=${t.keysReceived}`
  );
}

export function describeResult(result: ClientResult): string {
  if (!result.ok) {
    if (result.error === 'quorum')
      return `error quorum needed=${result.needed} acked=${result.acked}`;
    return `error ${result.error}: ${result.message}`;
  }
  switch (result.op) {
    case 'put':
      return (
        `ok put acked=${result.acked} coordinator=${result.coordinator} ` +
        `sloppy=${result.sloppy} siblings=${result.siblings}`
      );
    case 'get':
      return (
        `ok get ${describeRecord(result.record)} replies=${result.replies} ` +
        `coordinator=${result.coordinator} sloppy=${result.sloppy}`
      );
    case 'ring-change':
      return `ok ring-change ${describeRingState(result.state)}`;
    case 'ring-status':
      return `ok ring-status ${describeRingState(result.state)} ${describeTransferStatus(result.transfer)}`;
  }
}

export function describePersist(writes: readonly PersistWrite[]): string {
  return writes
    .map((write) => {
      if (write.ns === 'meta') return `meta/${write.name}=${describeMeta(write.value)}`;
      const key = write.ns === 'hints' ? describeHintKey(write.key) : write.key;
      return `${write.ns}/${key}=${write.record === null ? 'removed' : describeRecord(write.record)}`;
    })
    .join(' ');
}

/** A stored hint key (`target\0key`) as `target/key`. */
export function describeHintKey(stored: string): string {
  const { target, key } = parseHintKey(stored);
  return `${target}/${key}`;
}

function describeMeta(value: unknown): string {
  if (value === undefined) return 'removed';
  if (typeof value === 'object' && value !== null && 'owners' in value) {
    return `{${describeRingState(value as RingState)}}`;
  }
  return JSON.stringify(value);
}

type MemberMessage = Member['m'];
type MemberRecordOf = Extract<MemberMessage, { type: 'm-gossip' }>['records'][number];

function describeMember(r: MemberRecordOf): string {
  const by = r.suspectedBy === undefined ? '' : `(by ${r.suspectedBy})`;
  return `${r.id}:${r.status}/${r.incarnation}${by}`;
}

function describeMemberMessage(m: MemberMessage, from: NodeId, to: NodeId, ids: IdNames): string {
  switch (m.type) {
    case 'm-gossip':
      return `${m.reply ? 'reply' : 'push'} ${m.records.map(describeMember).join(' ')}`;
    case 'm-ping':
      return `ping ${ids.name('s', from, m.seq)}`;
    case 'm-ack':
      return `ack ${ids.name('s', to, m.seq)} ${describeMember(m.record)}`;
    case 'm-ping-req':
      return `ping-req ${ids.name('s', from, m.seq)} target=${m.target}`;
  }
}

/**
 * A peer message from `from` to `to`, ids named by the node that allocated them (the sender of
 * a request, the receiver of its answer).
 */
export function describeMessage(m: PeerMessage, from: NodeId, to: NodeId, ids: IdNames): string {
  const mine = (kind: Parameters<IdNames['name']>[0], raw: number) => ids.name(kind, from, raw);
  const theirs = (kind: Parameters<IdNames['name']>[0], raw: number) => ids.name(kind, to, raw);
  const body = ((): string => {
    switch (m.type) {
      case 'replica-put': {
        const hint = m.hintFor === undefined ? '' : ` hint-for=${m.hintFor}`;
        return `${mine('op', m.opId)} ${m.key}=${describeRecord(m.record)}${hint}`;
      }
      case 'replica-put-ack':
        return theirs('op', m.opId);
      case 'replica-put-nack':
        return `${theirs('op', m.opId)} ${m.reason}`;
      case 'replica-get':
        return `${mine('op', m.opId)} ${m.key}${m.hintFor === undefined ? '' : ` hint-for=${m.hintFor}`}`;
      case 'replica-get-reply':
        return `${theirs('op', m.opId)} ${m.record === null ? 'none' : describeRecord(m.record)}`;
      case 'forward':
        return `${mine('f', m.fwdId)} ${describeRequest(m.request)}`;
      case 'forward-reply':
        return `${theirs('f', m.fwdId)} ${describeResult(m.result)}`;
      case 'repair':
        return `${m.key}=${describeRecord(m.record)}`;
      case 'reap-check':
        return `${mine('c', m.checkId)} ${m.key} ${describeDots(m.dots)}`;
      case 'reap-check-reply':
        return `${theirs('c', m.checkId)} ok=${m.ok}`;
      case 'reap':
        return `${m.key} ${describeDots(m.dots)}`;
      case 'handoff':
        return `${mine('b', m.batchId)} ${describeEntries(m.entries)}`;
      case 'handoff-ack':
      case 'transfer-ack':
        return theirs('b', m.batchId);
      case 'ping':
      case 'pong':
        return '';
      case 'ae-roots':
        return `${mine('x', m.xid)} partitions=${m.partitions.length}`;
      case 'ae-roots-reply':
        return `${theirs('x', m.xid)} differing=[${m.differing.join(' ')}]`;
      case 'ae-descend':
        return `${mine('x', m.xid)} p${m.partition} ${m.paths.map(describePath).join(' ')}`;
      case 'ae-descend-reply':
        return `${theirs('x', m.xid)} p${m.partition} ${m.nodes.map(describeAeNode).join(' ')}`;
      case 'ae-push':
        return `${mine('x', m.xid)} ${describeEntries(m.records)} want=[${m.want.join(' ')}]`;
      case 'ae-push-reply':
        return `${theirs('x', m.xid)} ${describeEntries(m.records)}`;
      case 'ring':
        return describeRingState(m.state);
      case 'ring-version':
        return `v${m.version} claimant=${m.claimant}`;
      case 'transfer':
        return `${mine('b', m.batchId)} v${m.version} p${m.partition} ${describeEntries(m.entries)}`;
      case 'transfer-done':
      case 'departed':
        return `v${m.version}`;
      case 'member':
        return describeMemberMessage(m.m, from, to, ids);
    }
  })();
  return body === '' ? m.type : `${m.type} ${body}`;
}

/** A data request as a client (or a forwarder) sent it. */
export function describeRequest(r: {
  op: string;
  key?: string;
  value?: Uint8Array | null;
  w?: number;
  r?: number;
  pw?: number;
  pr?: number;
  rid?: string;
  context?: VersionVector;
  supersede?: string;
  change?: { kind: string; node: NodeId };
}): string {
  const parts: string[] = [r.op];
  if (r.change !== undefined) parts.push(`${r.change.kind} ${r.change.node}`);
  if (r.key !== undefined) {
    const value =
      r.value === undefined ? '' : `=${r.value === null ? '⊥' : decoder.decode(r.value)}`;
    parts.push(`${r.key}${value}`);
  }
  if (r.w !== undefined) parts.push(`w=${r.w}`);
  if (r.r !== undefined) parts.push(`r=${r.r}`);
  if (r.pw !== undefined) parts.push(`pw=${r.pw}`);
  if (r.pr !== undefined) parts.push(`pr=${r.pr}`);
  if (r.context !== undefined && r.context.length > 0)
    parts.push(`ctx=${describeVector(r.context)}`);
  if (r.rid !== undefined) parts.push(`rid=${r.rid}`);
  if (r.supersede !== undefined) parts.push(`supersede=${r.supersede}`);
  return parts.join(' ');
}
