/**
 * The history checker: a pure function over the client history (each write with the context it
 * carried and the dots it produced), every node's final `data` records, and the ring. Rules:
 *
 * 1. lost-write — no acknowledged write is lost. covers(W', W) holds when W'.context covers a dot
 *    of W. W is *accounted* when a dot of W is in the final record of its key (union over nodes);
 *    or some write W' (any outcome: a failed write may still have applied) with covers(W', W) is
 *    accounted (recursively, memoised, cycle-safe); or W is a delete whose tombstone was reaped
 *    (observed removed, or the key is absent on every node); or the key is absent on every node
 *    and a delete that became durable covers W. Every `ok` put and delete must be accounted.
 * 2. silent-overwrite — two acknowledged writes where neither covers the other must both be
 *    accounted. (1) implies it; it is reported apart to name the pair.
 * 3. resurrection / superseded-returned — in the merged final record of a key, no sibling is
 *    covered by a write that is present or accounted: a deleted or overwritten version must not
 *    come back (for example from a stale replica, a hint or a reaped tombstone).
 * 4. convergence — after the liveness phase the N preference-list replicas of every key hold
 *    identical dot sets.
 * 5. ownership — after the liveness phase a key's data lives on its preference-list nodes only:
 *    a node outside the list (one that left the ring, or lost the key's partition in a
 *    membership change) holds no record of it. `ring` is the final, committed ring.
 * 6. expired-returned — no resurrection of an expired value: a successful get invoked at or
 *    after a value's deadline plus the tolerated clock skew returns that value (the deadline is
 *    the coordinator's wall clock at the write plus the TTL; a reader whose clock is behind by
 *    up to the skew may still see it). After the liveness phase no node stores a value live past
 *    its deadline plus skew plus the sweep's slack. A put with a TTL whose value expired and was
 *    reaped is accounted (rule 1) like a reaped delete.
 */
import type { Dot, KeyRecord, NodeId } from '../core/types.js';
import { reconcile, vvCovers } from '../core/version.js';
import { dotKey, type WriteFact } from './history.js';

export type Rule =
  | 'lost-write'
  | 'silent-overwrite'
  | 'resurrection'
  | 'superseded-returned'
  | 'convergence'
  | 'ownership'
  /** Reported by the swarm (ring-check.ts): the ring never settled, or lacks the asked change. */
  | 'membership'
  /** Reported by the swarm, not the checker: a read or operation never finished in time. */
  | 'liveness'
  /** Reported by the swarm: the core threw (an assertion failed) on some node. */
  | 'core-fault'
  /** Reported by the swarm: a node's Merkle tree differs from one rebuilt from its local view. */
  | 'merkle'
  | 'expired-returned';

export interface Violation {
  readonly rule: Rule;
  readonly key: string;
  readonly message: string;
  /** History op ids involved. */
  readonly ops: readonly number[];
}

export interface CheckInput {
  readonly writes: readonly WriteFact[];
  /** Every node's `data` records at the end of the run. */
  readonly data: ReadonlyMap<NodeId, ReadonlyMap<string, KeyRecord>>;
  readonly ring: { preferenceList(key: string, n: number): readonly NodeId[] };
  readonly n: number;
  /** Tombstone dots observed removed from some node's data, per key. */
  readonly reaped?: ReadonlyMap<string, readonly Dot[]>;
  /** Skip rules 4 and 5 (for checks in the middle of a run). @default true */
  readonly convergence?: boolean;
  /** What rule 6 needs; absent: rule 6 is not checked. */
  readonly expiry?: ExpiryCheck;
}

export interface ExpiryCheck {
  /** The history's operations; gets carry the deadlines of the live values they returned. */
  readonly reads: ReadonlyArray<{
    readonly id: number;
    readonly kind: string;
    readonly key: string;
    readonly outcome: string;
    readonly invokeMs: number;
    readonly readExpiries: ReadonlyArray<{
      readonly dot: Dot;
      readonly expiresAtMs: number;
    }> | null;
  }>;
  /** The Unix ms that virtual time 0 stands for (deadlines are Unix ms). */
  readonly wallEpochMs: number;
  /** Virtual time the run ended at (when `data` was taken). */
  readonly endMs: number;
  /** The largest |wall clock − true time| of any node. */
  readonly skewMs: number;
  /** How long after its deadline (and skew) a value may still be stored live at the end. */
  readonly sweepSlackMs: number;
}

/** Violations reported per rule and key at most; the rest are counted in the message. */
const PER_KEY_RULE_MAX = 3;

/** Whether W'.context covers some dot of W. */
export function covers(later: WriteFact, earlier: WriteFact): boolean {
  return later !== earlier && earlier.dots.some((dot) => vvCovers(later.context, dot));
}

function formatDots(dots: readonly Dot[]): string {
  return dots.length === 0 ? 'no durable dot' : `dots [${dots.map(dotKey).join(', ')}]`;
}

function describe(w: WriteFact): string {
  return `${w.outcome} ${w.kind} #${w.id} (${formatDots(w.dots)})`;
}

/** The facts about one key that every rule reads. */
class KeyView {
  readonly union = new Set<string>();
  readonly present: boolean;
  readonly merged: KeyRecord | null;
  readonly reaped: ReadonlySet<string>;
  private readonly memo = new Map<number, boolean | 'visiting'>();
  private readonly coverersOf = new Map<number, WriteFact[]>();

  constructor(
    readonly key: string,
    readonly writes: readonly WriteFact[],
    records: readonly KeyRecord[],
    reaped: readonly Dot[],
  ) {
    for (const record of records) for (const s of record.siblings) this.union.add(dotKey(s.dot));
    this.present = records.length > 0;
    this.merged = reconcile(records);
    this.reaped = new Set(reaped.map(dotKey));
  }

  coverers(w: WriteFact): WriteFact[] {
    let list = this.coverersOf.get(w.id);
    if (list === undefined) {
      list = this.writes.filter((other) => covers(other, w));
      this.coverersOf.set(w.id, list);
    }
    return list;
  }

  isPresent(w: WriteFact): boolean {
    return w.dots.some((dot) => this.union.has(dotKey(dot)));
  }

  accounted(w: WriteFact): boolean {
    const known = this.memo.get(w.id);
    if (known === 'visiting') return false; // a cycle: no support from this path
    if (known !== undefined) return known;
    this.memo.set(w.id, 'visiting');
    const result =
      this.isPresent(w) ||
      this.reapedDelete(w) ||
      this.deletedAway(w) ||
      this.coverers(w).some((c) => this.accounted(c));
    this.memo.set(w.id, result);
    return result;
  }

  /**
   * A delete whose tombstone was reaped (seen removed, or the key is gone everywhere); or a put
   * with a TTL, whose value expired into a tombstone that was reaped the same way.
   */
  private reapedDelete(w: WriteFact): boolean {
    if ((w.kind !== 'delete' && w.expires !== true) || w.dots.length === 0) return false;
    return !this.present || w.dots.some((dot) => this.reaped.has(dotKey(dot)));
  }

  /** The key is gone everywhere and a delete that became durable covers w. */
  private deletedAway(w: WriteFact): boolean {
    if (this.present) return false;
    return this.coverers(w).some((c) => c.kind === 'delete' && c.dots.length > 0);
  }
}

function lostWrites(view: KeyView): Violation[] {
  const out: Violation[] = [];
  for (const w of view.writes) {
    if (w.outcome !== 'ok' || view.accounted(w)) continue;
    const why =
      w.dots.length === 0
        ? 'it never became durable on any node'
        : 'no node holds it and no accounted write covers it';
    out.push({
      rule: 'lost-write',
      key: view.key,
      message: `acknowledged ${describe(w)} is lost: ${why}`,
      ops: [w.id],
    });
  }
  return out;
}

function silentOverwrites(view: KeyView): Violation[] {
  const out: Violation[] = [];
  const acked = view.writes.filter((w) => w.outcome === 'ok');
  for (const lost of acked) {
    if (view.accounted(lost)) continue;
    const winner = acked.find(
      (w) => w !== lost && !covers(w, lost) && !covers(lost, w) && view.accounted(w),
    );
    if (winner === undefined) continue;
    const message = `concurrent acknowledged writes ${describe(lost)} and ${describe(winner)}: only #${winner.id} survives — #${lost.id} was silently overwritten`;
    out.push({ rule: 'silent-overwrite', key: view.key, message, ops: [lost.id, winner.id] });
  }
  return out;
}

function returnedVersions(view: KeyView): Violation[] {
  const out: Violation[] = [];
  const owner = new Map<string, WriteFact>();
  for (const w of view.writes) for (const dot of w.dots) owner.set(dotKey(dot), w);
  for (const sibling of view.merged?.siblings ?? []) {
    const mine = owner.get(dotKey(sibling.dot));
    const label = mine === undefined ? `sibling ${dotKey(sibling.dot)}` : describe(mine);
    for (const w of view.writes) {
      if (w === mine || !vvCovers(w.context, sibling.dot)) continue;
      if (!view.isPresent(w) && !view.accounted(w)) continue;
      const rule: Rule = w.kind === 'delete' ? 'resurrection' : 'superseded-returned';
      const verb = w.kind === 'delete' ? 'deleted by' : 'superseded by';
      const ops = mine === undefined ? [w.id] : [mine.id, w.id];
      out.push({
        rule,
        key: view.key,
        message: `${label} was ${verb} ${describe(w)} but is in the final state`,
        ops,
      });
      break;
    }
  }
  return out;
}

function converged(view: KeyView, input: CheckInput): Violation[] {
  const prefs = input.ring.preferenceList(view.key, input.n);
  const sets = prefs.map((node) => {
    const record = input.data.get(node)?.get(view.key);
    return (record?.siblings ?? [])
      .map((s) => dotKey(s.dot))
      .sort()
      .join(', ');
  });
  if (sets.every((set) => set === sets[0])) return [];
  const detail = prefs.map((node, i) => `${node}: [${sets[i]}]`).join('; ');
  return [
    {
      rule: 'convergence',
      key: view.key,
      message: `replicas disagree after the liveness phase — ${detail}`,
      ops: [],
    },
  ];
}

function owned(view: KeyView, input: CheckInput): Violation[] {
  const prefs = input.ring.preferenceList(view.key, input.n);
  const out: Violation[] = [];
  for (const [node, records] of input.data) {
    const record = records.get(view.key);
    if (record === undefined || prefs.includes(node)) continue;
    const dots = record.siblings.map((s) => dotKey(s.dot)).join(', ');
    out.push({
      rule: 'ownership',
      key: view.key,
      message: `${node} holds [${dots}] but is not in the key's preference list [${prefs.join(', ')}]`,
      ops: [],
    });
  }
  return out;
}

/** Rule 6: gets and the final state against each value's deadline (see the file comment). */
function expiredReturned(input: CheckInput, expiry: ExpiryCheck): Violation[] {
  const out: Violation[] = [];
  for (const op of expiry.reads) {
    if (op.kind !== 'get' || op.outcome !== 'ok' || op.readExpiries === null) continue;
    const invokedWallMs = expiry.wallEpochMs + op.invokeMs;
    for (const { dot, expiresAtMs } of op.readExpiries) {
      if (expiresAtMs + expiry.skewMs > invokedWallMs) continue;
      const late = invokedWallMs - expiresAtMs;
      const message = `get #${op.id} returned ${dotKey(dot)} ${late} ms after its deadline (skew tolerated: ${expiry.skewMs} ms)`;
      out.push({ rule: 'expired-returned', key: op.key, message, ops: [op.id] });
    }
  }
  const endWallMs = expiry.wallEpochMs + expiry.endMs;
  const slackMs = expiry.skewMs + expiry.sweepSlackMs;
  for (const [node, records] of input.data) {
    for (const [key, record] of records) {
      for (const s of record.siblings) {
        if (s.value === null || s.expiresAtMs === undefined) continue;
        if (s.expiresAtMs + slackMs > endWallMs) continue;
        const message = `${node} still stores ${dotKey(s.dot)} live ${endWallMs - s.expiresAtMs} ms after its deadline`;
        out.push({ rule: 'expired-returned', key, message, ops: [] });
      }
    }
  }
  return out;
}

/** Caps one rule's reports for one key, noting how many were left out. */
function capped(found: Violation[]): Violation[] {
  if (found.length <= PER_KEY_RULE_MAX) return found;
  const rest = found.length - PER_KEY_RULE_MAX;
  const last = found[PER_KEY_RULE_MAX - 1]!;
  return [
    ...found.slice(0, PER_KEY_RULE_MAX - 1),
    { ...last, message: `${last.message} (and ${rest} more like it)` },
  ];
}

function keysOf(input: CheckInput): string[] {
  const keys = new Set(input.writes.map((w) => w.key));
  for (const records of input.data.values()) for (const key of records.keys()) keys.add(key);
  return [...keys].sort();
}

/** Checks a run; an empty list means every rule held. */
export function check(input: CheckInput): Violation[] {
  const byKey = new Map<string, WriteFact[]>();
  for (const w of input.writes) {
    const list = byKey.get(w.key) ?? [];
    list.push(w);
    byKey.set(w.key, list);
  }
  const violations: Violation[] = [];
  for (const key of keysOf(input)) {
    const records: KeyRecord[] = [];
    for (const data of input.data.values()) {
      const record = data.get(key);
      if (record !== undefined) records.push(record);
    }
    const view = new KeyView(key, byKey.get(key) ?? [], records, input.reaped?.get(key) ?? []);
    violations.push(...capped(lostWrites(view)), ...capped(silentOverwrites(view)));
    violations.push(...capped(returnedVersions(view)));
    if (input.convergence === false) continue;
    violations.push(...converged(view, input), ...capped(owned(view, input)));
  }
  if (input.expiry !== undefined) violations.push(...capped(expiredReturned(input, input.expiry)));
  return violations;
}
