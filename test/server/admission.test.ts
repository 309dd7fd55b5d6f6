/**
 * The admission controller on a fake clock: bounds (limit, queue, wait), refusals, aborts, and
 * the limit's maths (gradient, growth only under demand, decrease on latency or drops, range).
 * No real time passes: timers fire when the test advances the clock.
 */
import { describe, expect, it } from 'vitest';
import {
  ADMISSION_CONFIG_RANGES,
  type AdmissionConfig,
  DEFAULT_ADMISSION_CONFIG,
  validateAdmissionConfig,
} from '../../src/config.js';
import {
  ValidationError as BadInput,
  OverloadError,
  QuorumError,
  TimeoutError,
  ValidationError,
} from '../../src/errors.js';
import {
  type AdmissionClock,
  AdmissionController,
  AdmissionRefusedError,
  gradientOf,
  loopLagMs,
  type Permit,
} from '../../src/server/admission.js';
import { outcomeOf } from '../../src/server/admitted-client.js';
import { meanSince } from '../../src/util/running-sum.js';

class FakeClock implements AdmissionClock {
  now = 0;
  timers: { dueMs: number; fn: () => void; live: boolean }[] = [];
  scheduled = 0;
  lag = 0;
  lagMs(): number {
    return this.lag;
  }
  nowMs(): number {
    return this.now;
  }
  schedule(ms: number, fn: () => void): () => void {
    this.scheduled++;
    const timer = { dueMs: this.now + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }
  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }
  /** Moves time on, firing due timers in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.live && t.dueMs <= end)
        .sort((a, b) => a.dueMs - b.dueMs)[0];
      if (due === undefined) break;
      this.now = due.dueMs;
      due.live = false;
      due.fn();
    }
    this.now = end;
  }
}

function controller<C extends FakeClock = FakeClock>(
  config: Partial<AdmissionConfig> = {},
  clock: C = new FakeClock() as C,
) {
  // The maths is tested from small limits up; the default floor (128) is for real clients.
  return { clock, admission: new AdmissionController({ limitMin: 4, ...config }, clock) };
}

/** Lets settled promises run their callbacks. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('admission bounds', () => {
  it('admits up to the limit at once, then refuses with Retry-After when nobody may wait', async () => {
    const { admission } = controller({
      limitInitial: 3,
      limitMin: 1,
      queueMax: 0,
      retryAfterSeconds: 2,
    });
    const permits = [0, 1, 2].map(() => admission.tryAcquire());
    expect(permits.every((p) => p !== null)).toBe(true);
    expect(admission.inFlight).toBe(3);
    expect(admission.tryAcquire()).toBeNull();
    expect(admission.mayWait()).toBe(false);
    const refused = await admission.acquire().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AdmissionRefusedError);
    expect(refused).toBeInstanceOf(OverloadError);
    expect((refused as AdmissionRefusedError).retryAfterSeconds).toBe(2);
    expect((refused as AdmissionRefusedError).reason).toBe('queue_full');
    expect(admission.refuseNow()).toMatchObject({ reason: 'queue_full', retryAfterSeconds: 2 });
    expect(admission.stats()).toMatchObject({ admitted: 3, refusedQueueFull: 2, inFlight: 3 });
  });

  it('queues at most queueMax, hands freed slots over oldest first', async () => {
    const { admission } = controller({
      limitInitial: 1,
      limitMin: 1,
      queueMax: 2,
      queueWaitMsMax: 100,
    });
    const first = admission.tryAcquire()!;
    const order: string[] = [];
    const noted = (name: string) => (p: Permit) => {
      order.push(name);
      return p;
    };
    const a = admission.acquire().then(noted('a'));
    const b = admission.acquire().then(noted('b'));
    const c = admission.acquire().catch((error: unknown) => error);
    expect(admission.queued).toBe(2);
    expect(await c).toBeInstanceOf(AdmissionRefusedError);
    first.release('ok');
    const pa = await a;
    expect(order).toEqual(['a']);
    expect(admission.inFlight).toBe(1);
    pa.release('ok');
    (await b).release('ok');
    expect(order).toEqual(['a', 'b']);
    expect(admission.inFlight).toBe(0);
    expect(admission.queued).toBe(0);
  });

  it('refuses a waiter whose wait ran out, with one timer for the whole queue', async () => {
    const { clock, admission } = controller({
      limitInitial: 1,
      limitMin: 1,
      queueMax: 10,
      queueWaitMsMax: 20,
    });
    admission.tryAcquire();
    const results: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      admission.acquire().then(
        (p) => results.push(p),
        (e: unknown) => results.push(e),
      );
      clock.advance(2);
    }
    expect(clock.pending).toBe(1);
    clock.advance(11); // t = 21: only the first waiter (deadline 20) is past its wait
    await settle();
    expect(results).toHaveLength(1);
    clock.advance(100);
    await settle();
    expect(results).toHaveLength(5);
    for (const r of results) {
      expect(r).toBeInstanceOf(AdmissionRefusedError);
      expect((r as AdmissionRefusedError).reason).toBe('wait_expired');
      // An expected answer carries no stack trace (one per refusal cost a busy front), and
      // building it leaves the process's own stack traces as they were.
      expect((r as Error).stack).not.toMatch(/\n\s+at /);
    }
    expect(new Error('x').stack).toMatch(/\n\s+at /);
    expect(admission.queued).toBe(0);
    expect(clock.pending).toBe(0);
    expect(clock.scheduled).toBeLessThanOrEqual(5);
    expect(admission.stats().refusedWaitExpired).toBe(5);
  });

  it('an aborted waiter leaves the queue with the abort reason', async () => {
    const { clock, admission } = controller({ limitInitial: 1, limitMin: 1, queueMax: 4 });
    const held = admission.tryAcquire()!;
    const abort = new AbortController();
    const waiting = admission.acquire(abort.signal).catch((error: unknown) => error);
    expect(admission.queued).toBe(1);
    abort.abort(new Error('caller left'));
    expect(((await waiting) as Error).message).toBe('caller left');
    expect(admission.queued).toBe(0);
    expect(clock.pending).toBe(0);
    held.release('ok');
    expect(admission.inFlight).toBe(0);
    const already = new AbortController();
    already.abort(new Error('gone'));
    await expect(admission.acquire(already.signal)).rejects.toThrow('gone');
  });

  it('a permit released twice frees one slot', () => {
    const { admission } = controller({ limitInitial: 2, limitMin: 1 });
    const permit = admission.tryAcquire()!;
    admission.tryAcquire();
    permit.release('ok');
    permit.release('ok');
    expect(admission.inFlight).toBe(1);
  });
});

describe('admission limit maths', () => {
  it('gradient: 1 within tolerance, shrinking past it, never below 0.5', () => {
    const table: [tolerance: number, baseline: number, mean: number, gradient: number][] = [
      [1.5, 10, 10, 1],
      [1.5, 10, 15, 1],
      [1.5, 10, 20, 0.75],
      [1.5, 10, 30, 0.5],
      [1.5, 10, 300, 0.5],
      [2, 10, 25, 0.8],
      [1.5, 10, 0, 1],
    ];
    for (const [tolerance, baseline, mean, gradient] of table) {
      expect(gradientOf(tolerance, baseline, mean)).toBeCloseTo(gradient, 10);
    }
  });

  /** Runs `windows` full windows at `latencyMs` each, keeping `waiting` requests queued. */
  function runWindows(
    clock: FakeClock,
    admission: AdmissionController,
    windows: number,
    latencyMs: number,
    options: { saturated: boolean; outcome?: 'ok' | 'dropped' } = { saturated: true },
  ): void {
    for (let w = 0; w < windows; w++) {
      const size = Math.max(admission.config.windowSamplesMin, admission.limit);
      for (let done = 0; done < size; ) {
        const permits: Permit[] = [];
        const batch = options.saturated ? admission.limit : Math.max(1, admission.limit >> 2);
        for (let i = 0; i < batch; i++) {
          const p = admission.tryAcquire();
          if (p !== null) permits.push(p);
        }
        if (options.saturated) admission.tryAcquire(); // one more: demand past the limit
        clock.advance(latencyMs);
        for (const p of permits) p.release(options.outcome ?? 'ok');
        done += permits.length;
      }
    }
  }

  it('grows while demand exceeds it and latency holds, up to limitMax', () => {
    const { clock, admission } = controller({ limitInitial: 10, limitMax: 200 });
    runWindows(clock, admission, 20, 5);
    expect(admission.limit).toBeGreaterThan(10);
    runWindows(clock, admission, 400, 5);
    expect(admission.limit).toBe(200);
    expect(admission.stats().increases).toBeGreaterThan(0);
  });

  it('does not grow when nobody waits for a slot', () => {
    const { clock, admission } = controller({ limitInitial: 40 });
    runWindows(clock, admission, 50, 5, { saturated: false });
    expect(admission.limit).toBe(40);
  });

  it('shrinks when latency rises past tolerance × baseline, down to limitMin', () => {
    const { clock, admission } = controller({ limitInitial: 100, limitMin: 8 });
    runWindows(clock, admission, 30, 10);
    const grown = admission.limit;
    runWindows(clock, admission, 5, 40);
    expect(admission.limit).toBeLessThan(grown);
    runWindows(clock, admission, 500, 1_000);
    expect(admission.limit).toBeGreaterThanOrEqual(8);
    expect(admission.stats().decreases).toBeGreaterThan(0);
  });

  it("does not shrink for latency that is the front's own event-loop delay", () => {
    const { clock, admission } = controller({ limitInitial: 100 });
    runWindows(clock, admission, 30, 10);
    const grown = admission.limit;
    clock.lag = 30; // the front thread is busy: every request waits 30 ms more for it
    runWindows(clock, admission, 5, 40);
    expect(admission.limit).toBeGreaterThanOrEqual(grown);
    clock.lag = 0;
    runWindows(clock, admission, 5, 40);
    expect(admission.limit).toBeLessThan(grown);
  });

  it("holds the limit through windows that are all the front's own delay, but still backs off on drops", () => {
    const { clock, admission } = controller({ limitInitial: 100, smoothing: 1, backoffRatio: 0.5 });
    runWindows(clock, admission, 3, 10);
    const before = admission.limit;
    clock.lag = 25; // the front is the bottleneck: requests take 20 ms, all of it waiting for it
    runWindows(clock, admission, 20, 20);
    expect(admission.limit).toBe(before); // read as fast, these windows doubled the limit each time
    expect(admission.stats().baselineMs).toBeCloseTo(10, 0);
    runWindows(clock, admission, 1, 20, { saturated: true, outcome: 'dropped' });
    expect(admission.limit).toBe(Math.max(admission.config.limitMin, Math.floor(before * 0.5)));
  });

  it('reads the event-loop monitor as delay past its sampling interval', () => {
    expect(loopLagMs(10.18e6, 10)).toBeCloseTo(0.18, 5); // an idle loop
    expect(loopLagMs(57e6, 10)).toBeCloseTo(47, 5);
    expect(loopLagMs(9.9e6, 10)).toBe(0);
    expect(loopLagMs(Number.NaN, 10)).toBe(0);
  });

  it('shrinks by backoffRatio × smoothing per window with drops downstream', () => {
    const { clock, admission } = controller({
      limitInitial: 100,
      windowSamplesMin: 100,
      backoffRatio: 0.5,
      smoothing: 1,
    });
    runWindows(clock, admission, 1, 5, { saturated: true, outcome: 'dropped' });
    expect(admission.limit).toBe(50);
    expect(admission.stats().dropped).toBe(100);
  });

  it('settles near throughput × tolerance × baseline on a system of fixed capacity', () => {
    // A cluster that serves `capacity` requests in parallel at 10 ms; more just queue in it.
    const capacity = 50;
    const { clock, admission } = controller({ limitInitial: 4, limitMax: 5000 });
    for (let round = 0; round < 3000; round++) {
      const permits: Permit[] = [];
      for (let p = admission.tryAcquire(); p !== null; p = admission.tryAcquire()) permits.push(p);
      clock.advance(10 * Math.max(1, permits.length / capacity));
      for (const p of permits) p.release('ok');
    }
    // Little's law: at most tolerance (1.5) × the unloaded latency → about 1.5 × capacity.
    expect(admission.limit).toBeGreaterThan(capacity * 0.8);
    expect(admission.limit).toBeLessThan(capacity * 3);
  });

  it('on a noisy machine (latency spread 1..30 ms whatever the load), does not fall to its floor', () => {
    const { clock, admission } = controller({ limitInitial: 64, limitMin: 4 });
    let seed = 12345;
    const noisy = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (29 * seed) / 2 ** 31;
    };
    const limits: number[] = [];
    for (let round = 0; round < 3000; round++) {
      const permits: Permit[] = [];
      for (let p = admission.tryAcquire(); p !== null; p = admission.tryAcquire()) permits.push(p);
      clock.advance(noisy()); // one latency per round: window means spread as widely
      for (const p of permits) p.release('ok');
      if (round >= 2000) limits.push(admission.limit);
    }
    const mean = limits.reduce((a, b) => a + b, 0) / limits.length;
    expect(mean).toBeGreaterThan(16);
  });

  it('after the cluster becomes slower for good, learns the new baseline instead of starving', () => {
    const capacity = 50;
    const { clock, admission } = controller({ limitInitial: 4, limitMax: 5000 });
    const run = (rounds: number, baseMs: number) => {
      let lowest = Number.POSITIVE_INFINITY;
      for (let round = 0; round < rounds; round++) {
        const permits: Permit[] = [];
        for (let p = admission.tryAcquire(); p !== null; p = admission.tryAcquire()) {
          permits.push(p);
        }
        clock.advance(baseMs * Math.max(1, permits.length / capacity));
        for (const p of permits) p.release('ok');
        lowest = Math.min(lowest, admission.limit);
      }
      return lowest;
    };
    run(1000, 10);
    const lowest = run(3000, 100); // ten times slower, same parallelism
    expect(lowest).toBeLessThan(capacity); // it did back off first
    expect(admission.stats().baselineMs).toBeGreaterThan(50);
    expect(admission.limit).toBeGreaterThan(capacity * 0.8);
    expect(admission.limit).toBeLessThan(capacity * 3);
  });
});

/** A clock whose cluster reports its service time: `service` ms for every window, or none. */
class ServiceClock extends FakeClock {
  service: number | null = null;
  serviceMs(): number | null {
    return this.service;
  }
}

describe("admission on the cluster's service times", () => {
  const serviceController = (config: Partial<AdmissionConfig>) =>
    controller(config, new ServiceClock());

  /**
   * Takes every free permit (and asks once more when `demand`: someone is refused), holds them
   * `heldMs`, releases them; `times` rounds.
   */
  function rounds(
    clock: ServiceClock,
    admission: AdmissionController,
    times: number,
    heldMs: number,
    demand = true,
  ): void {
    for (let r = 0; r < times; r++) {
      const permits: Permit[] = [];
      if (demand) {
        for (let p = admission.tryAcquire(); p !== null; p = admission.tryAcquire())
          permits.push(p);
      } else {
        // One slot short of the limit: nobody is refused.
        for (let i = admission.inFlight; i < admission.limit - 1; i++) {
          permits.push(admission.tryAcquire() as Permit);
        }
      }
      clock.advance(heldMs);
      for (const p of permits) p.release('ok');
    }
  }

  it('a front that holds answers long does not shrink the limit; it admits more for them', () => {
    const { clock, admission } = serviceController({ limitInitial: 40, limitMax: 100_000 });
    clock.service = 5;
    rounds(clock, admission, 20, 5);
    const grown = admission.stats().clusterLimit;
    expect(admission.stats().holdRatio).toBeCloseTo(1, 5);
    expect(admission.stats().baselineMs).toBeCloseTo(5, 5);
    // The front is busy: each answer waits 45 ms for it after the cluster served it in 5.
    rounds(clock, admission, 10, 50);
    const { clusterLimit, holdRatio } = admission.stats();
    expect(clusterLimit).toBeGreaterThanOrEqual(grown);
    expect(holdRatio).toBeGreaterThan(5); // moving towards 10 by `smoothing` per window
    expect(holdRatio).toBeLessThanOrEqual(10);
    expect(admission.limit / clusterLimit).toBeCloseTo(holdRatio, 2);
  });

  it("shrinks when the cluster's own service time rises past tolerance × baseline", () => {
    const { clock, admission } = serviceController({ limitInitial: 100, limitMin: 8 });
    clock.service = 5;
    rounds(clock, admission, 30, 5);
    const before = admission.limit;
    clock.service = 40; // the cluster queues: what the limit is for
    rounds(clock, admission, 30, 40);
    expect(admission.limit).toBeLessThan(before);
    rounds(clock, admission, 300, 40);
    expect(admission.limit).toBe(8);
    expect(admission.stats().baselineMs).toBeLessThan(6);
  });

  it('learns a higher baseline only after a quiet second, not from a burst inside a flood', () => {
    const { clock, admission } = serviceController({ limitInitial: 16, windowSamplesMin: 16 });
    clock.service = 5;
    rounds(clock, admission, 20, 5, false);
    expect(admission.stats().baselineMs).toBeCloseTo(5, 5);
    clock.service = 50;
    // A flood: every round refuses someone, then a window fills with nobody refused in it.
    for (let i = 0; i < 40; i++) {
      rounds(clock, admission, 1, 10, true);
      rounds(clock, admission, 1, 10, false);
    }
    expect(admission.stats().baselineMs).toBeLessThan(6);
    // A second and more with nobody refused: the cluster is slower for good, and that is learned.
    rounds(clock, admission, 400, 10, false);
    expect(admission.stats().baselineMs).toBeGreaterThan(25);
  });

  it('windows without service times fall back to hold time less the front delay', () => {
    const { clock, admission } = serviceController({ limitInitial: 100 });
    clock.service = null; // the runtime cannot tell
    rounds(clock, admission, 30, 10);
    const grown = admission.limit;
    clock.lag = 30;
    rounds(clock, admission, 5, 40);
    expect(admission.limit).toBeGreaterThanOrEqual(grown);
  });

  it('reads cumulative service counters as the mean since the previous read', () => {
    const seen = { count: 0, sumMs: 0 };
    expect(meanSince(seen, null)).toBeNull();
    expect(meanSince(seen, { count: 4, sumMs: 20 })).toBe(5);
    expect(meanSince(seen, { count: 4, sumMs: 20 })).toBeNull(); // none answered since
    expect(meanSince(seen, { count: 6, sumMs: 40 })).toBe(10);
    expect(seen).toEqual({ count: 6, sumMs: 40 });
  });
});

describe('admission config and outcomes', () => {
  it('defaults are valid and every range is checked', () => {
    expect(() => validateAdmissionConfig(DEFAULT_ADMISSION_CONFIG)).not.toThrow();
    for (const name of Object.keys(ADMISSION_CONFIG_RANGES) as (keyof AdmissionConfig)[]) {
      const bad = { ...DEFAULT_ADMISSION_CONFIG, [name]: -1 };
      expect(() => validateAdmissionConfig(bad), name).toThrow(ValidationError);
    }
    expect(() => new AdmissionController({ limitInitial: 5000 })).toThrow(/limitInitial/);
    expect(() => new AdmissionController({ queueMax: 1.5 })).toThrow(/integer/);
    expect(() => new AdmissionController({ smoothing: Number.NaN })).toThrow(/smoothing/);
  });

  it('maps how a call ended to what it says about capacity', () => {
    expect(outcomeOf(new OverloadError('full'))).toBe('dropped');
    expect(outcomeOf(new TimeoutError('late'))).toBe('dropped');
    expect(outcomeOf(new BadInput('bad key'))).toBe('ignore');
    expect(outcomeOf(new QuorumError('no quorum', 2, 1))).toBe('ok');
    const gone = new AbortController();
    gone.abort(new Error('client gone'));
    expect(outcomeOf(new Error('client gone'), gone.signal)).toBe('ignore');
  });
});
