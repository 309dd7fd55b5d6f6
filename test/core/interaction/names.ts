/**
 * Stable short names for the ids a trace shows. Nodes allocate operation ids, timer ids, persist
 * tokens and batch ids from one counter, so the raw numbers depend on how the core allocates
 * them, not on what the protocol does. The trace names each id by kind and first appearance
 * (`op1`, `t3`, `p2`), keyed by the node (and incarnation) that allocated it: golden files then
 * survive a change of allocation order but still show which message answers which.
 */
import type { NodeId } from '../../../src/core/types.js';

export type IdKind = 'op' | 't' | 'p' | 'f' | 'c' | 'b' | 'x' | 's';

export class IdNames {
  private readonly names = new Map<string, string>();
  private readonly counts = new Map<IdKind, number>();
  private readonly epochs = new Map<NodeId, number>();

  /** The name of id `raw` of `kind`, allocated by `owner` in its current incarnation. */
  name(kind: IdKind, owner: NodeId, raw: number): string {
    if (kind === 'op' && raw === 0) return 'op0'; // the unacknowledged copy to an incoming replica
    const key = `${kind}/${owner}#${this.epochs.get(owner) ?? 0}/${raw}`;
    const known = this.names.get(key);
    if (known !== undefined) return known;
    const count = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, count);
    const name = `${kind}${count}`;
    this.names.set(key, name);
    return name;
  }

  /** A restarted node allocates from 1 again: its ids are new ids. */
  restarted(node: NodeId): void {
    this.epochs.set(node, (this.epochs.get(node) ?? 0) + 1);
  }
}
