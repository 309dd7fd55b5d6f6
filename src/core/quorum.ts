/**
 * Quorum rounds: the bookkeeping of the requests a node coordinates (coordinator.ts starts
 * them), like etcd-raft's quorum/ package — counting acks and replies toward R/W and PR/PW.
 *
 * A put waits for W durable acks (its own local write counts once persisted), of which at least
 * PW from primary replicas; a stand-in's ack (a hint) counts toward W and makes the result
 * `sloppy`. A get asks R targets first (read-targets.ts) and its spares when those are slow or
 * hold only tombstones; it waits for R replies (PR from primaries), answers with their
 * reconciliation, then keeps listening until every target it asked answered or the timer fires,
 * and repairs primaries that answered with stale or missing versions (read repair), so read
 * repair covers the replicas asked. Every operation has a timer: when
 * it fires before the quorum is met the client gets a QuorumError naming how many replicas
 * answered — never a hang. A quorum that can no longer be met (nacks) fails at once.
 *
 * It performs no I/O: it pushes effects to an Effects list.
 */
import { assert } from './assert.js';
import type { Effects } from './effects.js';
import { IdTable } from './id-table.js';
import type { ClientResult } from './messages.js';
import { answer, type Origin, type Target } from './node-context.js';
import type { ReadPlan } from './read-targets.js';
import { RecentMap } from './recent-map.js';
import type { Timers } from './timers.js';
import type { KeyRecord, NodeId } from './types.js';
import { isDeleted, reconcile, sameDots } from './version.js';

interface OpBase {
  readonly origins: Origin[];
  readonly key: string;
  readonly needed: number;
  readonly primariesNeeded: number;
  readonly targets: ReadonlyMap<NodeId, Target>;
  readonly timerId: number;
}

interface PutOp extends OpBase {
  readonly kind: 'put';
  readonly rid: string | undefined;
  readonly siblings: number;
  readonly acked: Set<NodeId>;
  readonly failed: Set<NodeId>;
}

interface GetOp extends OpBase {
  readonly kind: 'get';
  /** The key's whole preference list: what read repair and reaping look at. */
  readonly primaries: readonly NodeId[];
  readonly replies: Map<NodeId, KeyRecord | null>;
  /** Targets sent a replica-get; only their replies count. */
  readonly asked: Set<NodeId>;
  /** Targets not asked yet (targeted reads): asked on speculation or tombstones. */
  spares: readonly Target[];
  /** Spares asked after the first request went out: their round trips include the wait. */
  readonly askedLate: Set<NodeId>;
  /** The timer that asks the spares, while armed. */
  speculateTimerId: number | null;
  answered: boolean;
  /** The request's trace id, carried into its read-repair messages. */
  readonly trace: string | undefined;
}

type Op = PutOp | GetOp;

export interface CoordinatorStats {
  putsOk: number;
  getsOk: number;
  quorumFailures: number;
  sloppyPuts: number;
  /** Repair messages sent to stale primaries after gets. */
  readRepairs: number;
  /** Puts recognised as retries of one already coordinated here (by request id). */
  retriesDeduplicated: number;
  /** Acks or replies that arrived for an operation already finished (late or duplicated). */
  lateReplies: number;
  /** Gets that asked their spare targets: the first asked were slow, or held only tombstones. */
  readsWidened: number;
}

/** A get as the coordinator starts it (coordinator.ts). */
export interface GetStart {
  readonly key: string;
  readonly r: number;
  readonly pr: number;
  readonly trace?: string | undefined;
  /** The key's whole preference list. */
  readonly primaries: readonly NodeId[];
  /** Live primaries and stand-ins (handoff.ts). */
  readonly targets: readonly Target[];
  /** Which targets to ask at once, which later (read-targets.ts). */
  readonly plan: ReadPlan;
  readonly deadlineTimerId: number;
  readonly speculateTimerId: number | null;
}

/** What a get that heard from every primary learned, for the coordinator to act on. */
export interface GetOutcome {
  readonly key: string;
  /** Every primary answered and the reconciled record is only tombstones: a reap candidate. */
  readonly reapable: KeyRecord | null;
}

/** Completed put results remembered per request id, for retries that come back. */
const RID_RESULTS_MAX = 10_000;

export class QuorumRounds {
  // By id: IdTables, not Maps, for entries this short-lived (see id-table.ts).
  private readonly ops = new IdTable<Op>();
  private readonly opByTimer = new IdTable<number>();
  private readonly opBySpeculation = new IdTable<number>();
  private readonly opByRid = new Map<string, number>();
  private readonly opsByKey = new Map<string, number>();
  private readonly resultByRid = new RecentMap<
    string,
    { readonly key: string; readonly result: ClientResult }
  >(RID_RESULTS_MAX);
  readonly stats: CoordinatorStats = {
    putsOk: 0,
    getsOk: 0,
    quorumFailures: 0,
    sloppyPuts: 0,
    readRepairs: 0,
    retriesDeduplicated: 0,
    lateReplies: 0,
    readsWidened: 0,
  };

  constructor(
    private readonly self: NodeId,
    private readonly timers: Timers,
    /** A record as it stands at the node's time (expired values as tombstones). */
    private readonly asOfNow: (record: KeyRecord) => KeyRecord = (record) => record,
  ) {}

  /** The replies merged, as they stand now: an expired value is never answered or repaired back. */
  private merged(op: GetOp): KeyRecord | null {
    const merged = reconcile(op.replies.values());
    return merged === null ? null : this.asOfNow(merged);
  }

  /** Operations still waiting for replies. */
  get inFlight(): number {
    return this.ops.size;
  }

  /** Whether an operation on `key` is still running here (a reap must wait for it). */
  isBusy(key: string): boolean {
    return (this.opsByKey.get(key) ?? 0) > 0;
  }

  /**
   * A put of `key` carrying request id `rid` arrived: if the same request is in flight here, the
   * new origin waits for its result; if it finished here, it gets the same result. Returns
   * whether the request was handled that way. A request id is the same write only for the same
   * key (users may give ids: PutOptions.requestId), so one reused for another key runs anew.
   */
  joinRetry(rid: string, key: string, origin: Origin, out: Effects): boolean {
    const opId = this.opByRid.get(rid);
    const running = opId === undefined ? undefined : this.ops.get(opId);
    const op = running?.key === key ? running : undefined;
    const remembered = this.resultByRid.get(rid);
    const done = remembered?.key === key ? remembered.result : undefined;
    if (op === undefined && done === undefined) return false;
    this.stats.retriesDeduplicated++;
    if (op !== undefined) op.origins.push(origin);
    else answer(out, origin, done!);
    return true;
  }

  startPut(
    opId: number,
    origin: Origin,
    request: { key: string; w: number; pw: number; rid: string | undefined; siblings: number },
    targets: readonly Target[],
    timerId: number,
  ): void {
    assert(request.w >= 1 && request.w <= targets.length, 'a put needs 1..targets acks');
    assert(request.pw <= request.w, 'pw never exceeds w');
    this.register(opId, timerId, {
      kind: 'put',
      origins: [origin],
      key: request.key,
      needed: request.w,
      primariesNeeded: request.pw,
      targets: new Map(targets.map((t) => [t.node, t])),
      timerId,
      rid: request.rid,
      siblings: request.siblings,
      acked: new Set(),
      failed: new Set(),
    });
    if (request.rid !== undefined) this.opByRid.set(request.rid, opId);
  }

  /**
   * Starts a get and sends its replica-gets to `plan.asked`. `speculateTimerId`, when not null,
   * is an armed timer whose firing asks `plan.spares` if the get has not answered by then.
   */
  startGet(opId: number, origin: Origin, get: GetStart, out: Effects): void {
    const { r, pr, targets, plan, speculateTimerId } = get;
    assert(r >= 1 && r <= targets.length, 'a get needs 1..targets replies');
    assert(pr <= r, 'pr never exceeds r');
    assert(plan.asked.length >= r, 'a get asks at least r targets at once');
    assert(speculateTimerId === null || plan.spares.length > 0, 'only spares are speculated on');
    const op: GetOp = {
      kind: 'get',
      origins: [origin],
      key: get.key,
      needed: r,
      primariesNeeded: pr,
      targets: new Map(targets.map((t) => [t.node, t])),
      timerId: get.deadlineTimerId,
      primaries: get.primaries,
      replies: new Map(),
      asked: new Set(),
      spares: plan.spares,
      askedLate: new Set(),
      speculateTimerId,
      answered: false,
      trace: get.trace,
    };
    this.register(opId, get.deadlineTimerId, op);
    if (speculateTimerId !== null) this.opBySpeculation.set(speculateTimerId, opId);
    this.ask(opId, op, plan.asked, out);
  }

  /** Whether `from`'s reply to get `opId` measures a plain round trip (it was asked first). */
  askedFirst(opId: number, from: NodeId): boolean {
    const op = this.ops.get(opId);
    return op?.kind === 'get' && op.asked.has(from) && !op.askedLate.has(from);
  }

  /**
   * A speculation timer fired: a get that has not answered yet asks its spares. Returns whether
   * the timer was one (the coordinator owns other timers too).
   */
  onSpeculationTimer(timerId: number, out: Effects): boolean {
    const opId = this.opBySpeculation.get(timerId);
    if (opId === undefined) return false;
    this.opBySpeculation.delete(timerId);
    const op = this.ops.get(opId);
    assert(op?.kind === 'get', 'a speculation timer always has its get');
    op.speculateTimerId = null;
    if (!op.answered) this.widen(opId, op, out);
    return true;
  }

  onPutAck(opId: number, from: NodeId, out: Effects): void {
    const op = this.ops.get(opId);
    if (op?.kind !== 'put' || !op.targets.has(from)) return this.late();
    op.acked.add(from);
    const primaries = countPrimaries(op, op.acked);
    if (op.acked.size < op.needed || primaries < op.primariesNeeded) return;
    const sloppy = primaries < op.acked.size; // a stand-in acked
    this.stats.putsOk++;
    if (sloppy) this.stats.sloppyPuts++;
    this.finish(opId, op, out, {
      ok: true,
      op: 'put',
      acked: op.acked.size,
      coordinator: this.self,
      sloppy,
      siblings: op.siblings,
    });
  }

  /** A target refused the write: fail now if the quorum can no longer be met. */
  onPutNack(opId: number, from: NodeId, out: Effects): void {
    const op = this.ops.get(opId);
    if (op?.kind !== 'put' || !op.targets.has(from)) return this.late();
    op.failed.add(from);
    const possible = op.targets.size - op.failed.size;
    const primariesPossible = [...op.targets.values()].filter(
      (t) => t.hintFor === null && !op.failed.has(t.node),
    ).length;
    if (possible >= op.needed && primariesPossible >= op.primariesNeeded) return;
    this.fail(opId, op, out);
  }

  onGetReply(
    opId: number,
    from: NodeId,
    record: KeyRecord | null,
    out: Effects,
  ): GetOutcome | null {
    const op = this.ops.get(opId);
    if (op?.kind !== 'get' || !op.asked.has(from) || op.replies.has(from)) {
      this.late();
      return null;
    }
    op.replies.set(from, record);
    if (!op.answered) this.answerGetIfMet(op, out);
    if (op.replies.size < op.asked.size) return null;
    // Every target asked answered. Spares are still to ask when the answer is not met yet, or
    // is only tombstones: a reap candidate needs every primary's word (complete()).
    if (op.spares.length > 0 && (!op.answered || onlyTombstones(this.merged(op)))) {
      this.widen(opId, op, out);
      return null;
    }
    return this.complete(opId, op, out);
  }

  /** Asks a get's spares. */
  private widen(opId: number, op: GetOp, out: Effects): void {
    assert(op.spares.length > 0, 'a get widens only to spares');
    const spares = op.spares;
    op.spares = [];
    this.stats.readsWidened++;
    this.disarmSpeculation(op, out);
    for (const target of spares) op.askedLate.add(target.node);
    this.ask(opId, op, spares, out);
  }

  private ask(opId: number, op: GetOp, targets: readonly Target[], out: Effects): void {
    const trace = op.trace === undefined ? {} : { trace: op.trace };
    for (const target of targets) {
      assert(!op.asked.has(target.node), 'a get asks each target once');
      op.asked.add(target.node);
      const hintFor = target.hintFor === null ? {} : { hintFor: target.hintFor };
      out.send(target.node, { type: 'replica-get', opId, key: op.key, ...hintFor, ...trace });
    }
  }

  private disarmSpeculation(op: GetOp, out: Effects): void {
    if (op.speculateTimerId === null) return;
    this.opBySpeculation.delete(op.speculateTimerId);
    this.timers.cancel(op.speculateTimerId, out);
    op.speculateTimerId = null;
  }

  /**
   * A timer fired. For an unfinished operation: fail it (or, for an answered get, finish its
   * read repair). Returns the targets that never answered — the node suspects them — or null
   * when the timer belongs to no operation.
   */
  onTimer(timerId: number, out: Effects): { silent: NodeId[]; outcome: GetOutcome | null } | null {
    const opId = this.opByTimer.get(timerId);
    if (opId === undefined) return null;
    const op = this.ops.get(opId);
    assert(op !== undefined, 'a registered timer always has its operation');
    const heard = op.kind === 'put' ? new Set([...op.acked, ...op.failed]) : op.replies;
    const sent = op.kind === 'put' ? op.targets.keys() : op.asked;
    const silent = [...sent].filter((node) => !heard.has(node));
    if (op.kind === 'get' && op.answered) return { silent, outcome: this.complete(opId, op, out) };
    this.fail(opId, op, out);
    return { silent, outcome: null };
  }

  private answerGetIfMet(op: GetOp, out: Effects): void {
    if (op.replies.size < op.needed) return;
    if (countPrimaries(op, op.replies.keys()) < op.primariesNeeded) return;
    op.answered = true;
    this.stats.getsOk++;
    const sloppy = [...op.replies.keys()].some((node) => op.targets.get(node)!.hintFor !== null);
    const result: ClientResult = {
      ok: true,
      op: 'get',
      record: this.merged(op),
      replies: op.replies.size,
      coordinator: this.self,
      sloppy,
    };
    for (const origin of op.origins) answer(out, origin, result);
  }

  /**
   * Ends an answered get: repairs stale primaries, and reports the key as a reap candidate when
   * every primary answered and the reconciled record is only tombstones — after the repairs
   * they all hold it; the reap's check phase verifies that and everything else before removing.
   */
  private complete(opId: number, op: GetOp, out: Effects): GetOutcome {
    this.forget(opId, op, out);
    const merged = this.merged(op);
    let allPrimaries = true;
    for (const node of op.primaries) {
      const target = op.targets.get(node);
      if (target === undefined || target.hintFor !== null || !op.replies.has(node)) {
        allPrimaries = false;
        continue;
      }
      const record = op.replies.get(node) ?? null;
      if (merged === null || (record !== null && sameDots(record, merged))) continue;
      this.stats.readRepairs++;
      const trace = op.trace === undefined ? {} : { trace: op.trace };
      out.send(node, { type: 'repair', key: op.key, record: merged, ...trace });
    }
    const reapable = allPrimaries && onlyTombstones(merged);
    return { key: op.key, reapable: reapable ? merged : null };
  }

  private fail(opId: number, op: Op, out: Effects): void {
    const acked = op.kind === 'put' ? op.acked.size : op.replies.size;
    this.stats.quorumFailures++;
    this.finish(opId, op, out, { ok: false, error: 'quorum', needed: op.needed, acked });
  }

  private late(): void {
    this.stats.lateReplies++;
  }

  private register(opId: number, timerId: number, op: Op): void {
    assert(!this.ops.has(opId), 'operation ids are unique');
    this.ops.set(opId, op);
    this.opByTimer.set(timerId, opId);
    this.opsByKey.set(op.key, (this.opsByKey.get(op.key) ?? 0) + 1);
  }

  private finish(opId: number, op: Op, out: Effects, result: ClientResult): void {
    this.forget(opId, op, out);
    if (op.kind === 'put' && op.rid !== undefined) this.remember(op.rid, op.key, result);
    for (const origin of op.origins) answer(out, origin, result);
  }

  private forget(opId: number, op: Op, out: Effects): void {
    this.ops.delete(opId);
    const running = (this.opsByKey.get(op.key) ?? 0) - 1;
    assert(running >= 0, 'operations per key never go negative');
    if (running === 0) this.opsByKey.delete(op.key);
    else this.opsByKey.set(op.key, running);
    this.opByTimer.delete(op.timerId);
    if (op.kind === 'put' && op.rid !== undefined && this.opByRid.get(op.rid) === opId) {
      this.opByRid.delete(op.rid);
    }
    if (op.kind === 'get') this.disarmSpeculation(op, out);
    this.timers.cancel(op.timerId, out);
  }

  /** Keeps successful outcomes only: a failed put may be retried and must then run again. */
  private remember(rid: string, key: string, result: ClientResult): void {
    if (!result.ok) return;
    this.resultByRid.set(rid, { key, result });
  }
}

/** A record of tombstones only (a deleted or expired key), as a reap candidate must be. */
function onlyTombstones(merged: KeyRecord | null): merged is KeyRecord {
  return merged !== null && merged.siblings.length > 0 && isDeleted(merged);
}

function countPrimaries(op: OpBase, nodes: Iterable<NodeId>): number {
  let count = 0;
  for (const node of nodes) if (op.targets.get(node)?.hintFor === null) count++;
  return count;
}
