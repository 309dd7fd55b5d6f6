/**
 * The record of every client operation in a run, for the checker and for reproducibility:
 * what was invoked (kind, key, the request id and context a write carried, the unique value of a
 * put), when it was invoked and completed in virtual time, and how it ended — `ok`, `fail`
 * (every attempt got an answer saying it failed; it may still have applied in part) or
 * `unknown` (some attempt timed out or lost its coordinator). Gets keep the dots they returned.
 *
 * It also watches every record that becomes durable on any node (SimStorage observers) to learn
 * which dots each write produced — by its request id and, for puts, by its unique value. A
 * retried write may own more than one dot. Tombstones removed from `data` are kept as reaped.
 */
import { assert } from '../core/assert.js';
import type { Dot, KeyRecord, VersionVector } from '../core/types.js';
import { compareDots } from '../core/version.js';
import type { StoredChange } from './sim-storage.js';

export type OpKind = 'put' | 'delete' | 'get';
export type Outcome = 'ok' | 'fail' | 'unknown' | 'pending';

export interface HistoryOp {
  readonly id: number;
  readonly client: string;
  readonly kind: OpKind;
  readonly key: string;
  /** The client request id of a put or delete (the same on every retry). */
  readonly rid: string | null;
  /** The context a put or delete carried. */
  readonly context: VersionVector | null;
  /** A put's value (`w<id>`, unique per put). */
  readonly value: string | null;
  readonly invokeMs: number;
  completeMs: number | null;
  outcome: Outcome;
  attempts: number;
  /** The last error an attempt ended with, if any. */
  error: string | null;
  /** A successful get's returned dots (sorted); null otherwise. */
  readDots: Dot[] | null;
  /** A put's TTL (null: none, and for deletes and gets). */
  readonly ttlMs: number | null;
  /** A successful get's live values that carry a deadline: their dot and deadline (Unix ms). */
  readExpiries: Array<{ readonly dot: Dot; readonly expiresAtMs: number }> | null;
}

/** What the checker needs to know about one put or delete. */
export interface WriteFact {
  readonly id: number;
  readonly kind: 'put' | 'delete';
  readonly key: string;
  readonly context: VersionVector;
  readonly outcome: Outcome;
  /** Every dot observed durable for this write. */
  readonly dots: readonly Dot[];
  /** A put with a TTL: its value may expire into a tombstone and be reaped. */
  readonly expires?: boolean;
}

/** Most operations one history records; a run past it has a runaway workload. */
export const HISTORY_OPS_MAX = 1_000_000;

const decoder = new TextDecoder();

export function dotKey(dot: Dot): string {
  return `${dot[0]}:${dot[1]}`;
}

function formatDots(dots: readonly Dot[]): string {
  return `[${dots.map(dotKey).join(',')}]`;
}

function formatMs(ms: number | null): string {
  return ms === null ? '-' : ms.toFixed(3);
}

export class History {
  readonly ops: HistoryOp[] = [];
  private readonly dotsByRid = new Map<string, Map<string, Dot>>();
  private readonly dotsByValue = new Map<string, Map<string, Dot>>();
  /** key -> tombstone dots that were removed from some node's `data` (reaped). */
  private readonly reapedByKey = new Map<string, Map<string, Dot>>();
  /** Durable record changes observed, in all. */
  changesObserved = 0;

  /** The id the next invoked op gets. */
  get nextOpId(): number {
    return this.ops.length + 1;
  }

  invoke(
    fields: Pick<HistoryOp, 'client' | 'kind' | 'key' | 'rid' | 'context' | 'invokeMs'> &
      Partial<Pick<HistoryOp, 'ttlMs'>>,
  ): HistoryOp {
    assert(this.ops.length < HISTORY_OPS_MAX, `a history holds at most ${HISTORY_OPS_MAX} ops`);
    const id = this.nextOpId;
    const op: HistoryOp = {
      ...fields,
      id,
      value: fields.kind === 'put' ? `w${id}` : null,
      completeMs: null,
      outcome: 'pending',
      attempts: 0,
      error: null,
      readDots: null,
      ttlMs: fields.ttlMs ?? null,
      readExpiries: null,
    };
    this.ops.push(op);
    return op;
  }

  complete(
    op: HistoryOp,
    outcome: Exclude<Outcome, 'pending'>,
    nowMs: number,
    read?: KeyRecord | null,
  ) {
    assert(op.outcome === 'pending', `op ${op.id} completes once`);
    assert(nowMs >= op.invokeMs, 'an op completes after it was invoked');
    op.outcome = outcome;
    op.completeMs = nowMs;
    if (op.kind === 'get' && outcome === 'ok') {
      op.readDots = (read?.siblings ?? []).map((s) => s.dot).sort(compareDots);
      op.readExpiries = [];
      for (const s of read?.siblings ?? []) {
        if (s.value === null || s.expiresAtMs === undefined) continue;
        op.readExpiries.push({ dot: s.dot, expiresAtMs: s.expiresAtMs });
      }
    }
  }

  /**
   * SimStorage observer: learns dots of writes and reaped tombstones. `reap` false: a removal is
   * no reap but a hand-over (a node drained a key it no longer replicates to its new owners).
   */
  observe(change: StoredChange, reap = true): void {
    this.changesObserved++;
    if (change.after !== null) {
      for (const sibling of change.after.siblings) {
        if (sibling.rid !== undefined) addDot(this.dotsByRid, sibling.rid, sibling.dot);
        if (sibling.value !== null)
          addDot(this.dotsByValue, decoder.decode(sibling.value), sibling.dot);
      }
      return;
    }
    if (change.ns !== 'data' || change.before === undefined || !reap) return;
    for (const sibling of change.before.siblings) {
      if (sibling.value === null) addDot(this.reapedByKey, change.key, sibling.dot);
    }
  }

  /** Every dot observed durable for a write (sorted), by its rid and by its value. */
  dotsOf(op: HistoryOp): Dot[] {
    const dots = new Map<string, Dot>();
    for (const [k, dot] of this.dotsByRid.get(op.rid ?? '') ?? []) dots.set(k, dot);
    if (op.value !== null)
      for (const [k, dot] of this.dotsByValue.get(op.value) ?? []) dots.set(k, dot);
    return [...dots.values()].sort(compareDots);
  }

  /** Tombstone dots reaped per key. */
  reaped(): Map<string, Dot[]> {
    const out = new Map<string, Dot[]>();
    for (const [key, dots] of this.reapedByKey) out.set(key, [...dots.values()].sort(compareDots));
    return out;
  }

  writes(): WriteFact[] {
    const facts: WriteFact[] = [];
    for (const op of this.ops) {
      if (op.kind === 'get') continue;
      assert(op.context !== null, 'a write carries a context');
      facts.push({
        id: op.id,
        kind: op.kind,
        key: op.key,
        context: op.context,
        outcome: op.outcome,
        dots: this.dotsOf(op),
        expires: op.ttlMs !== null,
      });
    }
    return facts;
  }

  /** Keys some put or delete was invoked on, sorted. */
  writtenKeys(): string[] {
    return [...new Set(this.ops.filter((op) => op.kind !== 'get').map((op) => op.key))].sort();
  }

  countBy(kind: OpKind | 'all', outcome: Outcome): number {
    return this.ops.filter((op) => (kind === 'all' || op.kind === kind) && op.outcome === outcome)
      .length;
  }

  /** A stable text form: same seed, byte-identical text. */
  serialize(): string {
    const lines = this.ops.map((op) => this.line(op));
    return `${lines.join('\n')}\n`;
  }

  private line(op: HistoryOp): string {
    const parts = [`#${op.id}`, op.client, op.kind, JSON.stringify(op.key)];
    if (op.rid !== null) parts.push(`rid=${op.rid}`);
    if (op.context !== null) parts.push(`ctx=${formatDots(op.context)}`);
    if (op.value !== null) parts.push(`val=${op.value}`);
    if (op.ttlMs !== null) parts.push(`ttl=${op.ttlMs}`);
    parts.push(`t=${formatMs(op.invokeMs)}..${formatMs(op.completeMs)}`, op.outcome);
    parts.push(`attempts=${op.attempts}`);
    if (op.error !== null) parts.push(`err=${op.error}`);
    if (op.readDots !== null) parts.push(`read=${formatDots(op.readDots)}`);
    if (op.kind !== 'get') parts.push(`dots=${formatDots(this.dotsOf(op))}`);
    return parts.join(' ');
  }
}

function addDot(index: Map<string, Map<string, Dot>>, name: string, dot: Dot): void {
  let dots = index.get(name);
  if (dots === undefined) {
    dots = new Map();
    index.set(name, dots);
  }
  const k = dotKey(dot);
  if (!dots.has(k)) dots.set(k, dot);
}
