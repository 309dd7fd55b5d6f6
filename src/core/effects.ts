/**
 * The effects NodeCore asks its runtime to carry out, in order, after each input — the
 * equivalent of etcd-raft's `Ready`. A `persist` must be made durable before the runtime feeds
 * back the matching `persisted` input; the core only sends acks that depend on it after that.
 */
import { type ClientResult, type PeerMessage, PROTOCOL_VERSION } from './messages.js';
import type { NodeId, PersistWrite } from './types.js';

export type Effect =
  /** Deliver `message` to peer `to`. The transport may lose it; the core copes. */
  | { readonly kind: 'send'; readonly to: NodeId; readonly message: PeerMessage }
  /** Answer the local client request `reqId`. */
  | { readonly kind: 'reply'; readonly reqId: number; readonly result: ClientResult }
  /** Feed `{ kind: 'timer', timerId }` back after `delayMs` of the runtime's clock. */
  | { readonly kind: 'set-timer'; readonly timerId: number; readonly delayMs: number }
  /** The timer is no longer needed; firing it anyway is harmless. */
  | { readonly kind: 'cancel-timer'; readonly timerId: number }
  /** Write these records durably, in order after earlier persists, then feed back `persisted`. */
  | { readonly kind: 'persist'; readonly token: number; readonly writes: readonly PersistWrite[] }
  /**
   * Membership gossip says `peer` is now reached at `address` (opaque to the core; the TCP
   * runtime validates it as host:port). Comes before any send to that peer in the same step.
   */
  | { readonly kind: 'peer-address'; readonly peer: NodeId; readonly address: string };

/** Distributes a peer message without its version field (added by `Effects.send`). */
export type Unversioned<M> = M extends PeerMessage ? Omit<M, 'v'> : never;

/** Collects the effects of one step. */
export class Effects {
  readonly list: Effect[] = [];

  /**
   * Sends `message`, stamped with the protocol version in place: every caller passes a literal
   * of its own, and a copy of each message (a spread) cost 5.7 % of a node thread's time.
   */
  send(to: NodeId, message: Unversioned<PeerMessage>): void {
    (message as { v?: number }).v = PROTOCOL_VERSION;
    this.list.push({ kind: 'send', to, message: message as PeerMessage });
  }

  reply(reqId: number, result: ClientResult): void {
    this.list.push({ kind: 'reply', reqId, result });
  }

  setTimer(timerId: number, delayMs: number): void {
    this.list.push({ kind: 'set-timer', timerId, delayMs });
  }

  cancelTimer(timerId: number): void {
    this.list.push({ kind: 'cancel-timer', timerId });
  }

  persist(token: number, writes: readonly PersistWrite[]): void {
    this.list.push({ kind: 'persist', token, writes });
  }

  peerAddress(peer: NodeId, address: string): void {
    this.list.push({ kind: 'peer-address', peer, address });
  }
}
