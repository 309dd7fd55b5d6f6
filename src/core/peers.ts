/**
 * One notion of a peer being down. Three sources feed it:
 * - the runtime reports that a peer stopped or started (`peer-status`): authoritative both ways;
 * - a peer that let one of our requests time out is *suspected* until any message from it
 *   arrives; every tick a suspected peer gets a `ping`, so its `pong` clears the suspicion even
 *   when no other traffic flows;
 * - with SWIM running (member-view.ts), a member SWIM holds dead or left.
 *
 * `isDown` (any of the three) decides routing: requests go to stand-ins, hints wait, streams and
 * exchanges skip the peer. `isDead` (runtime or SWIM only) decides whether a change's claimant
 * is gone for good: a single timeout must not hand a membership change to another node. Neither
 * ever changes ring ownership; only an explicit membership change does (rebalance.ts).
 */
import type { Effects } from './effects.js';
import type { MemberView } from './member-view.js';
import type { PeerLiveness } from './node-context.js';
import type { NodeId } from './types.js';

export class Peers implements PeerLiveness {
  private readonly stopped = new Set<NodeId>();
  private readonly suspected = new Set<NodeId>();

  constructor(
    private readonly self: NodeId,
    private readonly swim: MemberView | null,
  ) {}

  isDown(peer: NodeId): boolean {
    if (peer === this.self) return false;
    return this.stopped.has(peer) || this.suspected.has(peer) || this.swim?.isDead(peer) === true;
  }

  isDead(peer: NodeId): boolean {
    return this.stopped.has(peer) || this.swim?.isDead(peer) === true;
  }

  /** The runtime learned that a peer stopped or started. */
  onStatus(peer: NodeId, up: boolean): void {
    if (peer === this.self) return;
    if (up) {
      this.stopped.delete(peer);
      this.suspected.delete(peer);
    } else this.stopped.add(peer);
  }

  /** Any valid message from a peer shows it is alive. */
  heardFrom(peer: NodeId): void {
    this.suspected.delete(peer);
  }

  /** These targets let an operation time out. */
  suspect(nodes: readonly NodeId[]): void {
    for (const node of nodes) if (node !== this.self) this.suspected.add(node);
  }

  /** Every tick: ping each suspected peer (any answer clears it). */
  onTick(out: Effects): void {
    for (const peer of [...this.suspected].sort()) out.send(peer, { type: 'ping' });
  }

  /** Peers suspected now (for stats). */
  get suspectedCount(): number {
    return this.suspected.size;
  }
}
