/**
 * Every admin action this server was asked for, whoever asked (the CLI, curl, any browser tab):
 * time, action, outcome and origin, in a bounded list. Each event-stream tick carries the newest
 * entries, so every open page shows what any other caller did; GET /activity lists them all.
 *
 * An action is recorded when it starts (outcome `running`) and updated in place when it ends, so
 * a long add-node shows up at once. Nothing secret goes in: the origin is the caller's
 * `X-Ringkv-Request` tag and address, never a header such as Authorization.
 */
import { assert } from '../../core/assert.js';

export type ActivityOutcome = 'running' | 'ok' | 'failed' | 'refused';

export interface ActivityEntry {
  /** Increases by one per action; a page keys its rows by it. */
  readonly seq: number;
  /** `Date.now()` when the action arrived. */
  readonly atMs: number;
  /** What was asked, e.g. `kill n2`, `add-node n6`, `partition n1,n2 | n3,n4,n5`. */
  readonly action: string;
  readonly outcome: ActivityOutcome;
  /** The error message when failed or refused; a short result when ok (may be empty). */
  readonly detail: string;
  /** Time the action took, once it ended. */
  readonly ms: number | null;
  /** `cli`, `dashboard`, `http` (no tag) or another tag, then `@` the caller's address. */
  readonly origin: string;
}

/** Longest tag kept from X-Ringkv-Request (anything longer is cut). */
const ORIGIN_TAG_CHARS_MAX = 32;
/** Longest detail kept (an error message can be long). */
const DETAIL_CHARS_MAX = 300;

export class ActivityLog {
  private readonly entries: ActivityEntry[] = [];
  private nextSeq = 1;

  constructor(readonly entriesMax: number) {
    assert(Number.isSafeInteger(entriesMax), 'activity entriesMax must be an integer');
    assert(entriesMax >= 1, 'activity entriesMax must be at least 1');
  }

  /** Records an action that starts now; returns the function that records its end. */
  begin(
    action: string,
    origin: string,
    nowMs = Date.now(),
  ): (outcome: Exclude<ActivityOutcome, 'running'>, detail?: string) => void {
    const seq = this.nextSeq++;
    this.put({ seq, atMs: nowMs, action, outcome: 'running', detail: '', ms: null, origin });
    return (outcome, detail = '') => {
      const index = this.entries.findIndex((entry) => entry.seq === seq);
      if (index < 0) return; // pushed out by newer entries meanwhile
      const entry = this.entries[index]!;
      this.entries[index] = {
        ...entry,
        outcome,
        detail: detail.slice(0, DETAIL_CHARS_MAX),
        ms: Math.max(0, Date.now() - entry.atMs),
      };
    };
  }

  /** The newest `count` entries (all when omitted), oldest first. */
  recent(count = this.entriesMax): ActivityEntry[] {
    return this.entries.slice(Math.max(0, this.entries.length - count));
  }

  private put(entry: ActivityEntry): void {
    this.entries.push(entry);
    while (this.entries.length > this.entriesMax) this.entries.shift();
    assert(this.entries.length <= this.entriesMax, 'activity log stays within its bound');
  }
}

/** `cli@127.0.0.1`: the caller's X-Ringkv-Request tag (or `http`) and its address. */
export function originOf(tag: string | string[] | undefined, address: string | undefined): string {
  const raw = typeof tag === 'string' && tag.trim() !== '' ? tag.trim() : 'http';
  const clean = raw.replace(/[^A-Za-z0-9._-]/g, '').slice(0, ORIGIN_TAG_CHARS_MAX) || 'http';
  return address === undefined ? clean : `${clean}@${address.replace(/^::ffff:/, '')}`;
}
