/**
 * Quorum state machines for the requests a node coordinates. A put waits for W durable acks
 * (its own local write counts once persisted); a get waits for R replies and reconciles them
 * with `sync`. Every operation has a timer: when it fires before the quorum is met the client
 * gets a QuorumError naming how many replicas answered — never a hang.
 *
 * The coordinator performs no I/O: it records what it needs and pushes effects to an Outbox.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import type { ClientResult } from './messages.js';
import type { KeyRecord, NodeId } from './types.js';
import { sync } from './version.js';

/** Who is waiting for an operation's result: a local client, or a peer that forwarded it. */
export type Origin =
  | { readonly kind: 'client'; readonly reqId: number }
  | { readonly kind: 'peer'; readonly from: NodeId; readonly fwdId: number };

interface PutOp {
  readonly kind: 'put';
  readonly origin: Origin;
  readonly needed: number;
  readonly targets: ReadonlySet<NodeId>;
  readonly acked: Set<NodeId>;
  readonly timerId: number;
}

interface GetOp {
  readonly kind: 'get';
  readonly origin: Origin;
  readonly needed: number;
  readonly targets: ReadonlySet<NodeId>;
  readonly replies: Map<NodeId, KeyRecord | null>;
  readonly timerId: number;
}

type Op = PutOp | GetOp;

/** Counters the coordinator keeps; exposed through NodeCore.stats(). */
export interface CoordinatorStats {
  putsOk: number;
  getsOk: number;
  quorumFailures: number;
  /** Acks or replies that arrived for an operation already finished (late or duplicated). */
  lateReplies: number;
}

export class Coordinator {
  private readonly ops = new Map<number, Op>();
  private readonly opByTimer = new Map<number, number>();
  readonly stats: CoordinatorStats = { putsOk: 0, getsOk: 0, quorumFailures: 0, lateReplies: 0 };

  constructor(private readonly self: NodeId) {}

  /** Operations still waiting for replies. */
  get inFlight(): number {
    return this.ops.size;
  }

  /** Registers a put that was sent to `targets`; acks arrive through `onPutAck`. */
  startPut(opId: number, origin: Origin, needed: number, targets: readonly NodeId[], timer: Timer) {
    assert(needed >= 1, 'put needs at least one ack');
    assert(needed <= targets.length, 'put cannot need more acks than targets');
    this.register(opId, timer, {
      kind: 'put',
      origin,
      needed,
      targets: new Set(targets),
      acked: new Set(),
      timerId: timer.timerId,
    });
  }

  /** Registers a get that was sent to `targets`; replies arrive through `onGetReply`. */
  startGet(opId: number, origin: Origin, needed: number, targets: readonly NodeId[], timer: Timer) {
    assert(needed >= 1, 'get needs at least one reply');
    assert(needed <= targets.length, 'get cannot need more replies than targets');
    this.register(opId, timer, {
      kind: 'get',
      origin,
      needed,
      targets: new Set(targets),
      replies: new Map(),
      timerId: timer.timerId,
    });
  }

  onPutAck(opId: number, from: NodeId, out: Effects): void {
    const op = this.ops.get(opId);
    if (op?.kind !== 'put' || !op.targets.has(from)) {
      this.stats.lateReplies++;
      return;
    }
    op.acked.add(from);
    if (op.acked.size < op.needed) return;
    this.stats.putsOk++;
    this.finish(opId, op, out, {
      ok: true,
      op: 'put',
      acked: op.acked.size,
      coordinator: this.self,
    });
  }

  onGetReply(opId: number, from: NodeId, record: KeyRecord | null, out: Effects): void {
    const op = this.ops.get(opId);
    if (op?.kind !== 'get' || !op.targets.has(from)) {
      this.stats.lateReplies++;
      return;
    }
    op.replies.set(from, record);
    if (op.replies.size < op.needed) return;
    this.stats.getsOk++;
    this.finish(opId, op, out, {
      ok: true,
      op: 'get',
      record: reconcile(op.replies.values()),
      replies: op.replies.size,
      coordinator: this.self,
    });
  }

  /** A timer fired: if it belongs to an unfinished operation, fail it with a quorum error. */
  onTimer(timerId: number, out: Effects): boolean {
    const opId = this.opByTimer.get(timerId);
    if (opId === undefined) return false;
    const op = this.ops.get(opId);
    assert(op !== undefined, 'a registered timer always has its operation');
    const acked = op.kind === 'put' ? op.acked.size : op.replies.size;
    assert(acked < op.needed, 'a finished operation has no live timer');
    this.stats.quorumFailures++;
    this.finish(opId, op, out, { ok: false, error: 'quorum', needed: op.needed, acked });
    return true;
  }

  private register(opId: number, timer: Timer, op: Op): void {
    assert(!this.ops.has(opId), 'operation ids are unique');
    this.ops.set(opId, op);
    this.opByTimer.set(timer.timerId, opId);
  }

  private finish(opId: number, op: Op, out: Effects, result: ClientResult): void {
    this.ops.delete(opId);
    this.opByTimer.delete(op.timerId);
    out.cancelTimer(op.timerId);
    out.answer(op.origin, result);
  }
}

/** A timer the caller has already set for an operation. */
export interface Timer {
  readonly timerId: number;
}

/** Merges every replica's answer into one record (null when no replica holds the key). */
export function reconcile(records: Iterable<KeyRecord | null>): KeyRecord | null {
  let merged: KeyRecord | null = null;
  for (const record of records) {
    if (record === null) continue;
    merged = merged === null ? record : sync(merged, record);
  }
  return merged;
}
