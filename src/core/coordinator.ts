/**
 * The coordinator side of get, put and delete: validates a request, refuses it past
 * inFlightMax, picks its targets (handoff.ts: live primaries and stand-ins), and runs its quorum
 * round (quorum.ts). A put is coordinated only by a replica of its key — it issues the write's
 * dot — so a put reaching any other node is forwarded (forward.ts). The coordinator stores its
 * own copy first and sends the merged record to the other targets only once that copy is
 * durable (etcd-raft's Ready rule; see fanOut). A get asks R targets first (read-targets.ts),
 * answers after R replies, then finishes read repair and reports a key that is only tombstones
 * everywhere to the reaper.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import type { Forwarder } from './forward.js';
import { targetsFor } from './handoff.js';
import type { DataRequest, GetRequest, PutRequest } from './messages.js';
import { answer, type FanOut, failure, type NodeContext, type Origin } from './node-context.js';
import type { Peers } from './peers.js';
import { type GetOutcome, QuorumRounds } from './quorum.js';
import { planRead } from './read-targets.js';
import type { Reaper } from './reaper.js';
import type { TimerOwner } from './timers.js';
import type { KeyRecord, NodeId } from './types.js';
import { contextOf, siblingByRid, update, vvMerge } from './version.js';

export class Coordinator implements TimerOwner {
  private readonly rounds: QuorumRounds;
  readonly stats = { overloaded: 0 };

  constructor(
    private readonly ctx: NodeContext,
    private readonly peers: Peers,
    private readonly forwarder: Forwarder,
    private readonly reaper: Reaper,
  ) {
    this.rounds = new QuorumRounds(ctx.self, ctx.timers, (record) => ctx.asOfNow(record));
  }

  get roundStats() {
    return this.rounds.stats;
  }

  /** Requests this node holds state and a timer for: quorum rounds and forwards. */
  get inFlight(): number {
    return this.rounds.inFlight + this.forwarder.pending;
  }

  /** Whether an operation on `key` is still running here (a reap must wait for it). */
  isBusy(key: string): boolean {
    return this.rounds.isBusy(key);
  }

  coordinate(request: DataRequest, origin: Origin, out: Effects): void {
    const problem = this.validate(request);
    if (problem !== null) return answer(out, origin, failure('invalid', problem));
    // Forwarded puts hold state and a timer too, so they count toward the same bound.
    const inFlight = this.inFlight;
    if (inFlight >= this.ctx.limits.inFlightMax) {
      this.stats.overloaded++;
      const message = `node ${this.ctx.self} has ${inFlight} requests in flight already`;
      return answer(out, origin, failure('overload', message));
    }
    if (request.op === 'get') return this.get(request, origin, out);
    const full = request.value === null ? null : this.storageFull();
    if (full !== null) return answer(out, origin, failure('full', full));
    this.put(request, origin, out);
  }

  /**
   * Why this node takes no new value now (it holds more than limits.storageBytesMax), or null.
   * Deletes pass: they are how an operator makes room.
   */
  private storageFull(): string | null {
    const max = this.ctx.limits.storageBytesMax ?? 0;
    if (max === 0) return null;
    const held = this.ctx.local.bytes();
    if (held === null || held <= max) return null;
    return (
      `node ${this.ctx.self} holds ${held} bytes of records, over its bound of ${max} ` +
      '(--storage-max, config storageBytesMax): delete keys, raise the bound or add nodes'
    );
  }

  /** The core's own check of what a peer or client sent (the client validates before sending). */
  private validate(request: DataRequest): string | null {
    const { n } = this.ctx;
    const isGet = request.op === 'get';
    const quorum = isGet ? request.r : request.w;
    const primaries = (isGet ? request.pr : request.pw) ?? 0;
    const name = isGet ? 'r' : 'w';
    if (request.key.length === 0) return 'key must not be empty';
    if (quorum < 1 || quorum > n) return `${name} must be between 1 and n=${n}`;
    if (primaries > quorum) return `p${name} must be between 0 and ${name}=${quorum}`;
    if (request.timeoutMs < 1) return 'timeoutMs must be at least 1';
    if (request.op === 'put') return this.validateExpiry(request);
    return null;
  }

  private validateExpiry(request: PutRequest): string | null {
    const { ttlMs, expiresAtMs } = request;
    if (ttlMs === undefined && expiresAtMs === undefined) return null;
    if (ttlMs !== undefined && expiresAtMs !== undefined) {
      return 'give ttlMs or expiresAtMs, not both';
    }
    if (request.value === null) return 'a delete cannot carry an expiry';
    if (ttlMs !== undefined && ttlMs < 1) return 'ttlMs must be a positive integer';
    if (expiresAtMs !== undefined && expiresAtMs < 1) return 'expiresAtMs must be positive';
    if (ttlMs !== undefined && this.ctx.wallNowMs() === null) {
      return `node ${this.ctx.self} has no wall clock to set a ttlMs deadline by`;
    }
    return null;
  }

  /** The write's deadline: ttlMs from this node's clock, or the absolute expiresAtMs. */
  private deadlineOf(request: PutRequest): number | undefined {
    if (request.expiresAtMs !== undefined) return request.expiresAtMs;
    if (request.ttlMs === undefined) return undefined;
    const nowMs = this.ctx.wallNowMs();
    assert(nowMs !== null, 'validate refuses a ttlMs without a wall clock');
    const deadline = Math.floor(nowMs) + request.ttlMs; // whole ms, like every stored deadline
    assert(Number.isSafeInteger(deadline), 'a deadline is a safe integer');
    return deadline;
  }

  private put(request: PutRequest, origin: Origin, out: Effects): void {
    const { primaries, targets } = targetsFor(this.ctx, request.key);
    if (!primaries.includes(this.ctx.self)) {
      return this.forwarder.forwardPut(request, origin, primaries, out);
    }
    if (request.rid !== undefined && this.rounds.joinRetry(request.rid, request.key, origin, out)) {
      return;
    }
    const pw = request.pw ?? 0;
    const live = targets.filter((t) => t.hintFor === null).length;
    if (targets.length < request.w || live < pw) return this.noQuorum(origin, request.w, out);
    const made = this.recordForPut(request, origin, out);
    if (made === null) return;
    const { record, counter } = made;
    const opId = this.ctx.allocateId();
    const timerId = this.ctx.allocateId();
    this.ctx.timers.arm(timerId, this, request.timeoutMs, out);
    const { key, w, rid, trace } = request;
    const siblings = record.siblings.length;
    this.rounds.startPut(opId, origin, { key, w, pw, rid, siblings }, targets, timerId);
    // The record carries a dot, which may leave this node only once a durable counter
    // reservation covers it (etcd-raft's Ready rule): sent earlier, a crash before the persist
    // let the restarted node reissue a dot its peers already held (sim seeds 41697, 44204).
    // Reservations come in blocks, so nearly every put is covered already and goes out at once,
    // in parallel with its own persist: a durable put waits for one fsync round, not two. The
    // first put of a block (or a retry's record) waits for its own persist, as before.
    const fanOut: FanOut = { opId, key, record, targets, trace };
    const sendNow = counter !== null && this.ctx.local.counterDurable(counter);
    if (sendNow) this.sendCopies(fanOut, out);
    this.ctx.writeData(key, record, { kind: 'self-ack', fanOut, sent: sendNow }, out);
  }

  private noQuorum(origin: Origin, needed: number, out: Effects): void {
    this.rounds.stats.quorumFailures++;
    answer(out, origin, { ok: false, error: 'quorum', needed, acked: 0 });
  }

  /**
   * The record a put leaves on this coordinator: the local record again if it already holds
   * this request's write (a retry whose first attempt got this far), else the update with a
   * new dot. With `supersede: 'local'` the new version's past also covers every version held
   * here, so sequential writes through one coordinator never pile up siblings. Null when the
   * key has too many siblings (the client was answered).
   */
  private recordForPut(
    request: PutRequest,
    origin: Origin,
    out: Effects,
  ): { record: KeyRecord; counter: number | null } | null {
    const { local, limits, actor } = this.ctx;
    const stored = local.read(request.key);
    // Values already past their deadline count as the tombstones they are (expiry.ts).
    const current = stored === undefined ? undefined : this.ctx.asOfNow(stored);
    if (request.rid !== undefined && current !== undefined && siblingByRid(current, request.rid)) {
      this.rounds.stats.retriesDeduplicated++;
      return { record: current, counter: null };
    }
    const context =
      request.supersede === 'local' && current !== undefined
        ? vvMerge(request.context, contextOf(current))
        : request.context;
    const expiresAtMs = this.deadlineOf(request);
    const { record, sibling } = update(current, context, actor, request.value, {
      counterMin: local.counterFloor(),
      pastEntriesMax: limits.vvEntriesMax,
      ...(request.rid === undefined ? {} : { rid: request.rid }),
      ...(expiresAtMs === undefined ? {} : { expiresAtMs }),
    });
    if (record.siblings.length > limits.siblingsMax) {
      const message =
        `key has ${record.siblings.length - 1} siblings (limit ${limits.siblingsMax}): ` +
        'read it and write back with its context to resolve them';
      answer(out, origin, failure('conflict', message));
      return null;
    }
    local.counterUsed(sibling.dot[1]);
    return { record, counter: sibling.dot[1] };
  }

  /** The coordinator's own copy is durable: count its ack, sending the copies first if not yet. */
  selfDurable(fanOut: FanOut, sent: boolean, out: Effects): void {
    if (!sent) this.sendCopies(fanOut, out);
    this.rounds.onPutAck(fanOut.opId, this.ctx.self, out);
  }

  /** Sends a put's record to its other targets (and to incoming replicas during a change). */
  private sendCopies(fanOut: FanOut, out: Effects): void {
    const { opId, key, record, targets, trace } = fanOut;
    this.sendToIncoming(key, record, out);
    for (const target of targets) {
      if (target.node === this.ctx.self) continue;
      const hintFor = target.hintFor ?? undefined;
      out.send(target.node, {
        type: 'replica-put',
        opId,
        key,
        record,
        ...(hintFor ? { hintFor } : {}),
        ...(trace === undefined ? {} : { trace }),
      });
    }
    this.ctx.latency?.sentOp(opId, 'put');
  }

  /**
   * While a membership change runs, a write also goes to the key's incoming replicas (in the
   * next ring, not in the current one), so what the move streams already passed stays current
   * there. Not counted toward W (opId 0: the ack is ignored); the drain after the commit covers
   * a copy that got lost.
   */
  private sendToIncoming(key: string, record: KeyRecord, out: Effects): void {
    const { nextRing, ring, n, self, peers } = this.ctx;
    if (nextRing === null) return;
    const now = ring.preferenceList(key, n);
    for (const node of nextRing.preferenceList(key, n)) {
      if (now.includes(node) || node === self || peers.isDown(node)) continue;
      out.send(node, { type: 'replica-put', opId: 0, key, record });
    }
  }

  private get(request: GetRequest, origin: Origin, out: Effects): void {
    const { primaries, targets } = targetsFor(this.ctx, request.key);
    const pr = request.pr ?? 0;
    const live = targets.filter((t) => t.hintFor === null).length;
    if (targets.length < request.r || live < pr) return this.noQuorum(origin, request.r, out);
    const opId = this.ctx.allocateId();
    const deadlineTimerId = this.ctx.allocateId();
    this.ctx.timers.arm(deadlineTimerId, this, request.timeoutMs, out);
    const { key, r, trace } = request;
    const speculateMs = this.ctx.limits.readSpeculateMs;
    const plan = planRead(targets, this.ctx.self, { r, pr }, speculateMs);
    let speculateTimerId: number | null = null;
    if (plan.spares.length > 0 && speculateMs < request.timeoutMs) {
      speculateTimerId = this.ctx.allocateId();
      this.ctx.timers.arm(speculateTimerId, this, speculateMs, out);
    }
    this.ctx.latency?.sentOp(opId, 'get');
    const get = { key, r, pr, trace, primaries, targets, plan, deadlineTimerId, speculateTimerId };
    this.rounds.startGet(opId, origin, get, out);
  }

  onPutAck(from: NodeId, opId: number, out: Effects, receivedAtMs?: number): void {
    if (opId === 0) return; // a copy for an incoming replica (sendToIncoming)
    if (from !== this.ctx.self) this.ctx.latency?.answered(opId, 'put', receivedAtMs);
    this.rounds.onPutAck(opId, from, out);
  }

  onPutNack(from: NodeId, opId: number, out: Effects): void {
    this.rounds.onPutNack(opId, from, out);
  }

  onGetReply(
    from: NodeId,
    opId: number,
    record: KeyRecord | null,
    out: Effects,
    receivedAtMs?: number,
  ): void {
    if (from !== this.ctx.self && this.rounds.askedFirst(opId, from)) {
      this.ctx.latency?.answered(opId, 'get', receivedAtMs);
    }
    this.afterGet(this.rounds.onGetReply(opId, from, record, out), out);
  }

  /** A round's deadline: it fails (or an answered get ends); targets that stayed silent are suspected. */
  onTimer(timerId: number, out: Effects): void {
    if (this.rounds.onSpeculationTimer(timerId, out)) return;
    const expired = this.rounds.onTimer(timerId, out);
    if (expired === null) return;
    this.peers.suspect(expired.silent);
    this.afterGet(expired.outcome, out);
  }

  /** After a get heard every primary and saw only tombstones: a reap candidate. */
  private afterGet(outcome: GetOutcome | null, out: Effects): void {
    if (outcome === null || outcome.reapable === null) return;
    this.reaper.considerTombstones(outcome.key, outcome.reapable, out);
  }
}
