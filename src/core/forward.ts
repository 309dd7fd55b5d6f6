/**
 * Forwarding. Only a replica of a key can issue its next dot, so a put that reaches a node
 * outside the key's preference list goes to the first live replica, which coordinates it and
 * answers with a `forward-reply`. The forwarder waits the request's own timeout plus
 * forwardSlackMs for that answer, then tells its client the coordinator did not answer — never
 * a hang. A forwarded request is never forwarded again: a replica that is no longer one (its
 * ring moved on) answers `unavailable` and the client retries with a fresh ring.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import { IdTable } from './id-table.js';
import type { ClientResult, PutRequest } from './messages.js';
import { answer, failure, type NodeContext, type Origin } from './node-context.js';
import type { TimerOwner } from './timers.js';
import type { NodeId } from './types.js';

interface PendingForward {
  readonly reqId: number;
  readonly timerId: number;
}

export class Forwarder implements TimerOwner {
  // By id: IdTables, not Maps, for entries this short-lived (see id-table.ts).
  private readonly forwards = new IdTable<PendingForward>();
  private readonly forwardByTimer = new IdTable<number>();
  readonly stats = { forwarded: 0, lateForwardReplies: 0 };

  constructor(
    private readonly ctx: NodeContext,
    /** Extra time a forwarder waits past the request's own timeout for the answer. */
    private readonly slackMs: number,
  ) {
    assert(slackMs >= 0, 'forward slack is not negative');
  }

  /** Forwards waiting for their coordinator's answer (they count toward inFlightMax). */
  get pending(): number {
    return this.forwards.size;
  }

  /** Sends `request` to the first live node of `primaries` on behalf of `origin`. */
  forwardPut(
    request: PutRequest,
    origin: Origin,
    primaries: readonly NodeId[],
    out: Effects,
  ): void {
    const target = primaries.find((node) => !this.ctx.peers.isDown(node));
    if (origin.kind === 'peer' || target === undefined) {
      const why = target === undefined ? 'no replica of the key is up' : 'not a replica of the key';
      return answer(out, origin, failure('unavailable', why));
    }
    const fwdId = this.ctx.allocateId();
    const timerId = this.ctx.allocateId();
    this.forwards.set(fwdId, { reqId: origin.reqId, timerId });
    this.forwardByTimer.set(timerId, fwdId);
    this.stats.forwarded++;
    this.ctx.timers.arm(timerId, this, request.timeoutMs + this.slackMs, out);
    const trace = request.trace;
    out.send(target, {
      type: 'forward',
      fwdId,
      request,
      ...(trace === undefined ? {} : { trace }),
    });
  }

  onReply(fwdId: number, result: ClientResult, out: Effects): void {
    const pending = this.forwards.get(fwdId);
    if (pending === undefined) {
      this.stats.lateForwardReplies++;
      return;
    }
    this.forwards.delete(fwdId);
    this.forwardByTimer.delete(pending.timerId);
    this.ctx.timers.cancel(pending.timerId, out);
    out.reply(pending.reqId, result);
  }

  /** The coordinator did not answer in time. */
  onTimer(timerId: number, out: Effects): void {
    const fwdId = this.forwardByTimer.get(timerId);
    if (fwdId === undefined) return; // answered meanwhile: harmless
    const pending = this.forwards.get(fwdId);
    assert(pending !== undefined, 'a forward timer always has its forward');
    this.forwards.delete(fwdId);
    this.forwardByTimer.delete(timerId);
    out.reply(pending.reqId, failure('timeout', 'coordinator did not answer'));
  }
}
