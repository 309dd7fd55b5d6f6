/**
 * Admission control: at most `limit` client requests run at once; a request past it waits in a
 * bounded FIFO for a bounded time, and is refused (an AdmissionRefusedError, HTTP 503 with
 * Retry-After) when the FIFO is full or its wait runs out. So what the cluster cannot serve is
 * refused within `queueWaitMsMax`, and what it admits does not queue behind an unbounded backlog.
 *
 * The limit follows measured capacity by a latency gradient (Netflix concurrency-limits'
 * Gradient2, in the spirit of TCP Vegas). The gradient bounds the requests at the cluster;
 * completions are grouped in windows of max(windowSamplesMin, that limit), and each window's
 * latency is the cluster's mean service time over it: from the send to the node's answer
 * leaving it, measured by the runtime (AdmissionClock.serviceMs, from Cluster.serviceTime). The
 * front's own wait to read an answer is not in it: no limit shortens that wait, and a limit
 * chasing it fell to its floor while the front was busy refusing. Where the runtime cannot tell
 * (no serviceMs), the window mean is estimated as the permits' mean hold time less the front
 * thread's event-loop delay over the window, and a window that is nothing but that delay holds
 * the limit. The baseline is the unloaded latency (below). Each window:
 *
 *   gradient = clamp(latencyTolerance × baseline / windowMean, 0.5, 1)
 *   target   = 2 × limit                 while gradient = 1 (latency within tolerance: slow start)
 *            = limit × gradient + √limit  below (Gradient2's queue allowance)
 *            = limit × backoffRatio       when a request in the window was dropped downstream
 *                                         (a coordinator's overload or a timeout)
 *   limit    ← limit × (1 − smoothing) + target × smoothing, within limitMin..limitMax
 *
 * and the limit does not grow from a window in which nobody waited or was refused (it was not
 * the bottleneck). Latency rises once in-flight requests exceed what the cluster serves in
 * parallel, so the limit settles near throughput × latencyTolerance × baseline (Little's law).
 * The permits the front hands out are that limit times the hold ratio — the permits' mean hold
 * time over the service time, smoothed, at least 1 — so the permits of answers waiting for a busy
 * front do not use up the cluster's share (Little's law again).
 *
 * The baseline moves by 1/baselineWindows of the gap per window (an average: one lucky window
 * on a noisy machine must not set it, or every ordinary window looks slow and the limit falls to
 * its floor — measured), down from any window, but up only from windows that say what the
 * cluster does without the queueing this limit causes. With service times: nobody waited or was
 * refused for ADMISSION_QUIET_MS (under a flood a window of answers can fill within one turn
 * with nobody refused in it; learning from such windows took the baseline from 2.5 to 96 ms and
 * the limit to 1 700 under 2 000 connections of wrk). Estimated: nobody waited in the window, or
 * the limit is at its floor (≤ 2 × limitMin) and cannot be the cause. A baseline that learned from
 * every window would follow the latency the limit itself causes and let the limit creep up
 * without end (Gradient2's drift, and that of a sliding minimum too; the convergence test
 * catches both); one that never rose would hold the limit at its floor for good once the
 * cluster became slower. Defaults and ranges: AdmissionConfig in config.ts.
 *
 * One controller per front process, shared by every front that serves clients there (HTTP and
 * RESP): `acquire()` (waits, bounded) or `tryAcquire()` (never waits), then `permit.release()`
 * exactly once with how the request ended. The clock is injected, so the maths is testable with
 * plain calls; nothing here touches a socket.
 */

import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import {
  ADMISSION_LATENCY_FLOOR_MS,
  ADMISSION_QUIET_MS,
  type AdmissionConfig,
  DEFAULT_ADMISSION_CONFIG,
  validateAdmissionConfig,
} from '../config.js';
import { assert } from '../core/assert.js';
import { OverloadError } from '../errors.js';
import { meanSince, type RunningSum } from '../util/running-sum.js';
import type { AdmissionStats as ScrapedAdmissionStats } from './monitor/admission-metrics.js';
import type { AbortLike } from './request-signal.js';

/** How an admitted request ended, as the controller learns from it. */
export type AdmissionOutcome =
  /** Served (any answer the cluster gave, errors included): its latency is a sample. */
  | 'ok'
  /** Dropped downstream: a coordinator refused it (overload) or it timed out. Shrinks the limit. */
  | 'dropped'
  /** Ended for a reason that says nothing about capacity (the caller went away, bad input). */
  | 'ignore';

export interface Permit {
  /** Frees the slot; only the first call counts. */
  release(outcome: AdmissionOutcome): void;
}

/** Why a request was refused. */
export type RefusalReason = 'queue_full' | 'wait_expired';

/** What to answer a refused request. */
export interface Refusal {
  readonly reason: RefusalReason;
  readonly retryAfterSeconds: number;
  readonly message: string;
}

/** A request the controller refused: HTTP 503 with `Retry-After: retryAfterSeconds`. */
export class AdmissionRefusedError extends OverloadError {
  override name = 'AdmissionRefusedError';
  constructor(
    readonly reason: RefusalReason,
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
  }
}

/** Time as the controller sees it: a monotonic clock, one-shot timers, the front's own lag. */
export interface AdmissionClock {
  nowMs(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  schedule(ms: number, fn: () => void): () => void;
  /**
   * The front thread's mean event-loop delay (ms) since the previous call: time every request
   * spends waiting for the front itself, which no admission limit can shorten.
   */
  lagMs(): number;
  /**
   * The cluster's mean service time (ms) of the requests it answered since the previous call:
   * from the send to the answer leaving the node, without the front's wait to read it; null when
   * none were answered or the cluster cannot tell. Absent: the controller estimates it as the
   * permits' hold time less lagMs. @default absent
   */
  serviceMs?(): number | null;
}

/** How often the event-loop delay monitor samples, in ms. */
const LOOP_DELAY_RESOLUTION_MS = 10;

/** Event-loop delay sampled every 10 ms; one monitor per process, read by every real clock. */
let loopDelay: IntervalHistogram | null = null;

/**
 * The event loop's lag from the monitor's mean sample: perf_hooks records the whole interval
 * between its timer's runs, not the delay past it (an idle loop reads 10.2 ms at a 10 ms
 * resolution), so the resolution is taken off. Read raw, every window lost 10 ms of phantom
 * lag: unloaded windows of 5 ms read as the 1 ms floor and the baseline sank to 1.1 ms.
 */
export function loopLagMs(meanSampleNs: number, resolutionMs = LOOP_DELAY_RESOLUTION_MS): number {
  if (!Number.isFinite(meanSampleNs)) return 0;
  return Math.max(0, meanSampleNs / 1e6 - resolutionMs);
}

/**
 * The real clock: performance.now, unref'd timers, perf_hooks' event-loop delay monitor, and
 * the cluster's service times when `serviceTime` reads them (Cluster.serviceTime).
 */
export function realClock(serviceTime?: () => RunningSum | null): AdmissionClock {
  const delays = { count: 0, sumMs: 0 };
  const served = { count: 0, sumMs: 0 };
  return {
    ...(serviceTime === undefined ? {} : { serviceMs: () => meanSince(served, serviceTime()) }),
    nowMs: () => performance.now(),
    schedule(ms, fn) {
      const timer = setTimeout(fn, ms);
      timer.unref();
      return () => clearTimeout(timer);
    },
    lagMs() {
      if (loopDelay === null) {
        loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
        loopDelay.enable();
      }
      const { count, mean } = loopDelay;
      const meanMs = meanSince(delays, { count, sumMs: (mean * count) / 1e6 });
      return meanMs === null ? 0 : loopLagMs(meanMs * 1e6);
    },
  };
}

/**
 * What the controller reports: the series /metrics scrapes (declared beside them, since a
 * subfolder may not import its parent) and its limit moves.
 */
export interface AdmissionStats extends ScrapedAdmissionStats {
  readonly increases: number;
  readonly decreases: number;
}

interface Waiter {
  readonly deadlineMs: number;
  readonly resolve: (permit: Permit) => void;
  readonly reject: (error: unknown) => void;
  /** Removes the abort listener, if any. */
  readonly detach: () => void;
}

export class AdmissionController {
  readonly config: AdmissionConfig;
  private limitValue: number;
  private inFlightValue = 0;
  /** FIFO of waiters; `head` is the index of the oldest (amortised O(1) shift). */
  private queue: Waiter[] = [];
  private head = 0;
  private cancelTimer: (() => void) | null = null;
  private timerDueMs = Number.POSITIVE_INFINITY;
  // The current window.
  private windowCount = 0;
  private windowSumMs = 0;
  private windowSaturated = false;
  private windowDropped = false;
  /** The unloaded latency estimate (ms), null before the first window. */
  private baselineMs: number | null = null;
  /**
   * Mean permit hold time over the cluster's mean service time, smoothed (≥ 1): by Little's
   * law the permits held while answers wait for the front rather than for the cluster.
   */
  private holdRatio = 1;
  /** When a request last waited for a slot or was refused (clock ms). */
  private pressureAtMs = Number.NEGATIVE_INFINITY;
  private counters = {
    admitted: 0,
    refusedQueueFull: 0,
    refusedWaitExpired: 0,
    dropped: 0,
    increases: 0,
    decreases: 0,
  };

  constructor(
    config: Partial<AdmissionConfig> = {},
    private readonly clock: AdmissionClock = realClock(),
  ) {
    this.config = { ...DEFAULT_ADMISSION_CONFIG, ...config };
    validateAdmissionConfig(this.config);
    this.limitValue = this.config.limitInitial;
  }

  /**
   * The whole-request limit in force: the gradient's limit on requests at the cluster, times how
   * much longer a permit is held than the cluster takes to serve it (holdRatio, 1 without
   * service times), so answers waiting for a busy front do not use up the cluster's share.
   */
  get limit(): number {
    return Math.floor(Math.min(this.config.limitMax, this.limitValue * this.holdRatio));
  }

  get inFlight(): number {
    return this.inFlightValue;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  stats(): AdmissionStats {
    return {
      limit: this.limit,
      inFlight: this.inFlightValue,
      queued: this.queued,
      baselineMs: this.baselineMs,
      clusterLimit: Math.floor(this.limitValue),
      holdRatio: this.holdRatio,
      ...this.counters,
    };
  }

  /** A permit now if a slot is free and nobody waits for one, else null (never waits). */
  tryAcquire(): Permit | null {
    if (this.queued > 0 || this.inFlightValue >= this.limit) {
      this.underPressure();
      return null;
    }
    return this.admit();
  }

  /**
   * A permit, at once or after a wait of at most queueWaitMsMax; rejects with an
   * AdmissionRefusedError when the queue is full or the wait runs out, and with the signal's
   * reason when it aborts first.
   */
  acquire(signal?: AbortLike): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.tryAcquire();
    if (now !== null) return Promise.resolve(now);
    const { queueMax, queueWaitMsMax } = this.config;
    if (this.queued >= queueMax || queueWaitMsMax === 0) {
      return Promise.reject(this.refuse('queue_full'));
    }
    return new Promise<Permit>((resolve, reject) => {
      const onAbort = () => {
        this.remove(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        deadlineMs: this.clock.nowMs() + queueWaitMsMax,
        resolve,
        reject,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.armTimer(waiter.deadlineMs);
    });
  }

  private admit(): Permit {
    assert(this.inFlightValue < this.limit, 'a permit is only issued below the limit');
    this.inFlightValue++;
    this.counters.admitted++;
    const startMs = this.clock.nowMs();
    let released = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.onRelease(this.clock.nowMs() - startMs, outcome);
      },
    };
  }

  private onRelease(latencyMs: number, outcome: AdmissionOutcome): void {
    assert(this.inFlightValue > 0, 'a release matches an admission');
    this.inFlightValue--;
    if (outcome === 'dropped') {
      this.counters.dropped++;
      this.windowDropped = true;
    }
    if (outcome !== 'ignore') {
      this.windowCount++;
      this.windowSumMs += Math.max(0, latencyMs);
    }
    const windowSize = Math.max(this.config.windowSamplesMin, Math.floor(this.limitValue));
    if (this.windowCount >= windowSize) this.closeWindow();
    this.drain();
  }

  /** One gradient step from the window that just filled (see the file comment). */
  private closeWindow(): void {
    const heldMs = this.windowSumMs / this.windowCount;
    const lagMs = this.clock.lagMs();
    const serviceMs = this.clock.serviceMs?.() ?? null;
    let meanMs: number;
    if (serviceMs !== null) {
      // Measured where it happens: the cluster's latency, whatever the front's own delay.
      meanMs = Math.max(serviceMs, ADMISSION_LATENCY_FLOOR_MS);
      this.noteHoldRatio(heldMs / meanMs);
    } else {
      // Estimated: the front's own lag is taken out. A limit chasing it would fall to its floor
      // and starve the cluster while the front is busy refusing. But a window that is (nearly)
      // all lag says nothing about the cluster either: it holds the limit and the baseline.
      // Read as fast (the floor), it let the limit double window after window while the front
      // was the bottleneck: 985 permits and 4 577 client timeouts under 2 000 polite clients.
      meanMs = heldMs - lagMs;
      if (meanMs < ADMISSION_LATENCY_FLOOR_MS) return this.holdWindow();
    }
    const baselineMs = this.updateBaseline(meanMs, serviceMs !== null);
    const before = this.limitValue;
    const target = this.windowDropped
      ? before * this.config.backoffRatio
      : targetOf(before, gradientOf(this.config.latencyTolerance, baselineMs, meanMs));
    const { smoothing, limitMin, limitMax } = this.config;
    let next = before * (1 - smoothing) + target * smoothing;
    if (!this.windowSaturated) next = Math.min(next, before);
    this.limitValue = Math.min(limitMax, Math.max(limitMin, next));
    if (this.limitValue > before) this.counters.increases++;
    if (this.limitValue < before) this.counters.decreases++;
    assert(this.limitValue >= limitMin && this.limitValue <= limitMax, 'limit stays in range');
    this.resetWindow();
  }

  /** A request waits for a slot or is refused: the limit is what holds it back. */
  private underPressure(): void {
    this.windowSaturated = true;
    this.pressureAtMs = this.clock.nowMs();
  }

  /** Moves holdRatio by `smoothing` of the way to a window's ratio (at least 1). */
  private noteHoldRatio(ratio: number): void {
    const target = Number.isFinite(ratio) ? Math.max(1, ratio) : 1;
    this.holdRatio += (target - this.holdRatio) * this.config.smoothing;
    assert(this.holdRatio >= 1, 'a permit is held at least as long as the cluster serves it');
  }

  /** Ends a window that says nothing about the cluster: a drop still backs off, nothing grows. */
  private holdWindow(): void {
    if (this.windowDropped) {
      const { smoothing, backoffRatio, limitMin } = this.config;
      const before = this.limitValue;
      const next = before * (1 - smoothing) + before * backoffRatio * smoothing;
      this.limitValue = Math.max(limitMin, next);
      if (this.limitValue < before) this.counters.decreases++;
    }
    this.resetWindow();
  }

  private resetWindow(): void {
    this.windowCount = 0;
    this.windowSumMs = 0;
    this.windowSaturated = this.queued > 0;
    this.windowDropped = false;
  }

  /** The baseline after a window of mean `meanMs` (see the file comment). */
  private updateBaseline(meanMs: number, measured: boolean): number {
    assert(Number.isFinite(meanMs) && meanMs >= 0, 'a window mean is a finite latency');
    const previous = this.baselineMs;
    // Near its floor the limit is not what makes requests wait. Under a flood this also learns
    // the flood's latency (a 6 ms cluster's baseline reached 40 ms in a second of 2 000 polite
    // clients); not learning from windows with refusals held the limit at its floor instead
    // and cut admitted PUTs from 2 770/s to 935/s under wrk (bench/overload), so it stays.
    const unqueued = measured
      ? this.clock.nowMs() - this.pressureAtMs >= ADMISSION_QUIET_MS
      : !this.windowSaturated || this.limitValue <= 2 * this.config.limitMin;
    let next: number;
    if (previous === null) next = meanMs;
    else if (meanMs <= previous || unqueued) {
      next = previous + (meanMs - previous) / this.config.baselineWindows;
    } else next = previous;
    this.baselineMs = next;
    assert(next <= Math.max(meanMs, previous ?? meanMs), 'the baseline never jumps past a mean');
    return next;
  }

  /** Hands free slots to waiters, oldest first; refuses those whose wait ran out. */
  private drain(): void {
    const now = this.clock.nowMs();
    while (this.queued > 0) {
      const waiter = this.queue[this.head]!;
      if (waiter.deadlineMs <= now) {
        this.shift();
        waiter.reject(this.refuse('wait_expired'));
        continue;
      }
      if (this.inFlightValue >= this.limit) break;
      this.shift();
      waiter.resolve(this.admit());
    }
    if (this.queued === 0) this.disarmTimer();
  }

  private shift(): void {
    const waiter = this.queue[this.head]!;
    waiter.detach();
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private remove(waiter: Waiter): void {
    const index = this.queue.indexOf(waiter, this.head);
    if (index < 0) return;
    waiter.detach();
    this.queue.splice(index, 1);
    if (this.queued === 0) this.disarmTimer();
  }

  /** Whether a request tryAcquire() gave no permit may wait for one with acquire(). */
  mayWait(): boolean {
    return this.queued < this.config.queueMax && this.config.queueWaitMsMax > 0;
  }

  /**
   * Counts the refusal of a request that may not wait and says what to answer — without
   * building an Error (a stack trace per refusal costs the front thread what it must save).
   */
  refuseNow(): Refusal {
    return this.refusal('queue_full');
  }

  private refusal(reason: RefusalReason): Refusal {
    if (reason === 'queue_full') this.counters.refusedQueueFull++;
    else this.counters.refusedWaitExpired++;
    this.underPressure();
    const { retryAfterSeconds, queueWaitMsMax } = this.config;
    const why =
      reason === 'queue_full'
        ? `${this.inFlightValue} requests running (limit ${this.limit}) and ${this.queued} waiting`
        : `no slot freed within ${queueWaitMsMax} ms (limit ${this.limit})`;
    return { reason, retryAfterSeconds, message: `overloaded: ${why}; retry later` };
  }

  private refuse(reason: RefusalReason): AdmissionRefusedError {
    const { retryAfterSeconds, message } = this.refusal(reason);
    // An answer the front expects, not a bug: no stack trace. Under 2 000 connections of wrk
    // thousands of waiters a second run out of time, and capturing a stack for each was 1.9 %
    // of the front thread, with the garbage it leaves.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new AdmissionRefusedError(reason, retryAfterSeconds, message);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }

  /** One timer for the whole queue, due at the oldest waiter's deadline (FIFO: the earliest). */
  private armTimer(dueMs: number): void {
    if (this.cancelTimer !== null && this.timerDueMs <= dueMs) return;
    this.disarmTimer();
    this.timerDueMs = dueMs;
    this.cancelTimer = this.clock.schedule(Math.max(0, dueMs - this.clock.nowMs()), () => {
      this.cancelTimer = null;
      this.timerDueMs = Number.POSITIVE_INFINITY;
      this.drain();
      if (this.queued > 0) this.armTimer(this.queue[this.head]!.deadlineMs);
    });
  }

  private disarmTimer(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerDueMs = Number.POSITIVE_INFINITY;
  }
}

/**
 * Where a window moves the limit towards, before smoothing: doubling while latency is within
 * tolerance (so the limit reaches what a busy front needs to keep the cluster busy in a few
 * windows rather than hundreds), the gradient plus √limit of allowance past it.
 */
export function targetOf(limit: number, gradient: number): number {
  return gradient >= 1 ? 2 * limit : limit * gradient + Math.sqrt(limit);
}

/**
 * How much of the limit a window's latency keeps: 1 while the window mean stays within
 * `tolerance` × baseline, less as it grows past it, never below 0.5 (one window halves at most).
 */
export function gradientOf(tolerance: number, baselineMs: number, meanMs: number): number {
  if (meanMs <= 0) return 1;
  return Math.min(1, Math.max(0.5, (tolerance * baselineMs) / meanMs));
}
