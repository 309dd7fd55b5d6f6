/**
 * The clocks and randomness a NodeCore runs on when a real runtime hosts it (worker threads and
 * OS processes alike); the simulator passes virtual ones instead.
 */
import { LATENCY_HALF_LIFE_MS } from '../config.js';
import type { NodeCoreOptions } from '../core/node.js';

/**
 * Milliseconds on a clock every thread of this process reads alike (performance.now() counts
 * from each thread's own start; timeOrigin puts them on one scale): stamps one thread puts on a
 * message and another compares with its own reading, to 0.1 ms.
 */
export function processClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function hostClocks(): Pick<NodeCoreOptions, 'now' | 'random' | 'latency' | 'wallClockMs'> {
  return {
    // Gossip membership and SWIM failure detection run on the real clock and randomness.
    now: () => performance.now(),
    random: Math.random,
    // The system clock at sub-ms resolution: one clock for every node of this host.
    latency: {
      clock: processClockMs,
      halfLifeMs: LATENCY_HALF_LIFE_MS,
    },
    // Expiry deadlines (TTL) are Unix times: set and judged by this host's wall clock.
    wallClockMs: () => Date.now(),
  };
}
