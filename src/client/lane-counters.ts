/**
 * Counters of the process runtime's request lanes to one node (process-lane.ts), kept by the
 * pool (process-link.ts ControlCaller) across that node's successive lanes, so reconnects,
 * refusals past the pending bound and batching show in /metrics (server/monitor/lane-metrics.ts).
 * Plain numbers bumped in place: nothing is observed per request beyond an increment.
 */

/** Why a lane closed: a small fixed set, one label value each. */
export const LANE_CLOSE_REASONS = ['peer', 'error', 'malformed', 'timeout', 'local'] as const;

/**
 * - `peer`: the node ended or closed the connection;
 * - `error`: a socket or connect error, a refused or wrong upgrade;
 * - `malformed`: the node sent a frame that is not a batch of replies, or a bad frame header;
 * - `timeout`: the lane did not open within the connect timeout;
 * - `local`: the front closed it (the link closed).
 */
export type LaneCloseReason = (typeof LANE_CLOSE_REASONS)[number];

/** One node's lane counters, read at a scrape. Counters only grow; `inFlight` is a gauge. */
export interface LaneStats {
  readonly node: string;
  /** Lanes started (a connect attempt each; reconnects included). */
  readonly opened: number;
  readonly closed: Readonly<Record<LaneCloseReason, number>>;
  /** Requests written (or queued to be written) on a lane. */
  readonly sent: number;
  /** Replies read that settled a waiting call (late replies to cancelled calls excluded). */
  readonly answered: number;
  /** Calls that were waiting when their lane closed, and so ended `down`. */
  readonly down: number;
  /** Sends answered `down` at once because the lane had `pendingMax` calls waiting. */
  readonly refused: number;
  readonly framesWritten: number;
  readonly framesRead: number;
  /** Calls waiting for a reply now. */
  readonly inFlight: number;
}

/** The mutable counters of one node's lanes; `snapshot` copies them. */
export class LaneCounters {
  opened = 0;
  readonly closed: Record<LaneCloseReason, number> = {
    peer: 0,
    error: 0,
    malformed: 0,
    timeout: 0,
    local: 0,
  };
  sent = 0;
  answered = 0;
  down = 0;
  refused = 0;
  framesWritten = 0;
  framesRead = 0;
  /** The node's lanes still open or opening; calls in flight are what they hold. */
  private readonly live = new Set<{ readonly size: number }>();

  constructor(readonly node: string) {}

  /** Counts `lane`'s waiting calls as in flight until `detach`. */
  attach(lane: { readonly size: number }): void {
    this.live.add(lane);
  }

  detach(lane: { readonly size: number }): void {
    this.live.delete(lane);
  }

  /** Calls waiting for a reply now, on every live lane of the node. */
  get inFlight(): number {
    let calls = 0;
    for (const lane of this.live) calls += lane.size;
    return calls;
  }

  /** A copy of the counters now. */
  snapshot(): LaneStats {
    return {
      node: this.node,
      opened: this.opened,
      closed: { ...this.closed },
      sent: this.sent,
      answered: this.answered,
      down: this.down,
      refused: this.refused,
      framesWritten: this.framesWritten,
      framesRead: this.framesRead,
      inFlight: this.inFlight,
    };
  }
}
