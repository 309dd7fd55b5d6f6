/**
 * A node's injected faults as its transport takes them, shared by the two runtimes that host a
 * node behind a FaultyTransport: a worker thread (faults posted by the launcher) and a node
 * process (faults posted by `ringkv up --processes` to the node's control route, so they arrive
 * as untrusted bytes and are checked here first).
 */
import { ValidationError } from '../errors.js';
import { faultsProblem, type TransportFaults } from '../transport/faults.js';
import { sampleDist } from '../util/distributions.js';
import { Prng } from '../util/prng.js';
import type { WorkerFaults } from './control.js';
import { checkMessageDelays } from './network-state.js';

/**
 * The node's faults as its transport takes them: with message delays set, a `delayFor` hook
 * adds a fresh sample of the message type's distribution to `delayMs` (other types get
 * `delayMs` alone). The sampler is seeded from `delaySeed` and the node id.
 */
export function transportFaults(faults: WorkerFaults, id: string): TransportFaults {
  const { messageDelays, delaySeed, ...network } = faults;
  if (messageDelays === undefined || messageDelays === null) return network;
  const delays = new Map(Object.entries(messageDelays));
  let seed = (delaySeed ?? 0) >>> 0;
  for (let i = 0; i < id.length; i++) seed = Math.imul(seed ^ id.charCodeAt(i), 0x01000193) >>> 0;
  const prng = new Prng(seed);
  const base = network.delayMs;
  return {
    ...network,
    delayFor: (message) => {
      const dist = delays.get(message.type);
      return dist === undefined ? base : base + sampleDist(dist, prng);
    },
  };
}

const FAULT_FIELDS = new Set([
  'blockedPeers',
  'delayMs',
  'jitterMs',
  'lossRate',
  'messageDelays',
  'delaySeed',
]);

/** Checks faults that arrived from outside the process; a ValidationError names the problem. */
export function parseNodeFaults(input: unknown): WorkerFaults {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('faults must be an object');
  }
  const x = input as Record<string, unknown>;
  const unknown = Object.keys(x).find((name) => !FAULT_FIELDS.has(name));
  if (unknown !== undefined) throw new ValidationError(`unknown fault field ${unknown}`);
  const network = {
    blockedPeers: x.blockedPeers as string[],
    delayMs: x.delayMs as number,
    jitterMs: x.jitterMs as number,
    lossRate: x.lossRate as number,
  };
  const problem = faultsProblem(network);
  if (problem !== null) throw new ValidationError(problem);
  const seed = x.delaySeed ?? 0;
  if (!Number.isSafeInteger(seed) || (seed as number) < 0 || (seed as number) > 0xffff_ffff) {
    throw new ValidationError('delaySeed must be an integer in 0..4294967295');
  }
  if (x.messageDelays === undefined || x.messageDelays === null) return network;
  return {
    ...network,
    messageDelays: checkMessageDelays(x.messageDelays),
    delaySeed: seed as number,
  };
}
