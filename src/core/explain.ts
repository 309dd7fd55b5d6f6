/**
 * What one node knows about one key, for `GET /explain/:key` (the client assembles every node's
 * view and the verdict, client/key-verdict.ts). Bounded: a few map lookups for this key — its
 * record, one possible hint per node of the ring — and the anti-entropy memory of its
 * partition; nothing is scanned.
 */
import type { PartitionComparison } from './anti-entropy.js';
import type { KeyRecord, NodeId } from './types.js';

export interface NodeKeyView {
  readonly node: NodeId;
  readonly partition: number;
  /** Whether this node keeps the key as its own data (a replica now, or once a change commits). */
  readonly replicates: boolean;
  /** The local record (a write not yet durable included); null when it holds none. */
  readonly record: KeyRecord | null;
  /** A write of the key here is not durable yet. */
  readonly writePending: boolean;
  /** Hints held here for the key, by the down replica each stands in for. */
  readonly hints: ReadonlyArray<{ readonly for: NodeId; readonly record: KeyRecord }>;
  /**
   * Operations on the key this node coordinates now. A get among them keeps listening after its
   * answer and repairs replicas that answered stale: a read repair still pending.
   */
  readonly coordinating: boolean;
  /** A reap of the key's tombstones is waiting here (grace period or check round). */
  readonly reapPending: boolean;
  /** Peers this node routes around now (stopped, suspected, or dead in gossip). */
  readonly downPeers: readonly NodeId[];
  /** When this node last compared the key's partition with each peer (ms ago), if it knows. */
  readonly antiEntropy: ReadonlyArray<{
    readonly peer: NodeId;
    readonly msAgo: number;
    readonly differed: boolean;
  }>;
}

export interface ExplainSources {
  readonly self: NodeId;
  readonly nodes: readonly NodeId[];
  partitionOf(key: string): number;
  replicates(key: string): boolean;
  read(key: string): KeyRecord | undefined;
  readHint(owner: NodeId, key: string): KeyRecord | undefined;
  isPending(key: string): boolean;
  isBusy(key: string): boolean;
  isReapPending(key: string): boolean;
  isDown(peer: NodeId): boolean;
  comparisonsOf(partition: number): readonly PartitionComparison[];
  readonly now: (() => number) | undefined;
}

export function explainKey(key: string, src: ExplainSources): NodeKeyView {
  const partition = src.partitionOf(key);
  const hints: Array<{ for: NodeId; record: KeyRecord }> = [];
  for (const owner of src.nodes) {
    if (owner === src.self) continue;
    const record = src.readHint(owner, key);
    if (record !== undefined) hints.push({ for: owner, record });
  }
  const nowMs = src.now?.();
  const antiEntropy =
    nowMs === undefined
      ? []
      : src.comparisonsOf(partition).map((c) => ({
          peer: c.peer,
          msAgo: Math.max(0, Math.round(nowMs - c.atMs)),
          differed: c.differed,
        }));
  return {
    node: src.self,
    partition,
    replicates: src.replicates(key),
    record: src.read(key) ?? null,
    writePending: src.isPending(key),
    hints,
    coordinating: src.isBusy(key),
    reapPending: src.isReapPending(key),
    downPeers: src.nodes.filter((node) => node !== src.self && src.isDown(node)),
    antiEntropy,
  };
}
