/**
 * Default simulator options for hand-written scenario tests; swarm runs pick their own (see
 * scenario.ts). Every field can be overridden: `simOptions({ nodes: 5, n: 3 })`.
 */
import { coreLimits, DEFAULT_CONFIG } from '../config.js';
import type { SimOptions } from './simulator.js';

export const SIM_DEFAULTS: SimOptions = Object.freeze({
  nodes: 5,
  n: 3,
  r: 2,
  w: 2,
  partitionCount: 64,
  requestTimeoutMs: 500,
  clientTimeoutSlackMs: 200,
  retry: Object.freeze({
    attemptsMax: DEFAULT_CONFIG.retryAttemptsMax,
    delayBaseMs: DEFAULT_CONFIG.retryDelayBaseMs,
    delayMaxMs: DEFAULT_CONFIG.retryDelayMaxMs,
  }),
  network: Object.freeze({
    lossRate: 0,
    duplicateRate: 0,
    latency: Object.freeze({ exp: Object.freeze({ rate: 1 / 5 }) }),
    latencyMsMax: 5_000,
  }),
  diskLatency: Object.freeze({ exp: Object.freeze({ rate: 1 }) }),
  detectionDelay: Object.freeze({ constant: 50 }),
  tunables: Object.freeze({
    forwardSlackMs: 100,
    limits: Object.freeze({
      ...coreLimits(DEFAULT_CONFIG),
      tickIntervalMs: 200,
      tombstoneGraceMs: 5_000,
    }),
  }),
  eventsMax: 20_000_000,
});

/** The defaults with some fields replaced (network fields merge one level deep). */
export function simOptions(
  overrides: Partial<Omit<SimOptions, 'network'>> & {
    network?: Partial<SimOptions['network']>;
  } = {},
): SimOptions {
  const { network, ...rest } = overrides;
  return { ...SIM_DEFAULTS, ...rest, network: { ...SIM_DEFAULTS.network, ...network } };
}
