/**
 * How `ringkv bench matrix` injects a WARS latency profile (src/bench/profile.ts) into a real
 * worker-thread cluster, and how it describes what it did.
 *
 * - When the cluster offers per-message-type delays (`Cluster.setMessageDelays`), each class
 *   delays its own message: w `replica-put`, a `replica-put-ack`, r `replica-get`,
 *   s `replica-get-reply`, each message a fresh sample.
 * - Otherwise every node-to-node message gets one uniform delay, the mean of the four class
 *   means (`Cluster.setNetwork`): the round trips keep their mean cost but lose their tails.
 *
 * Either way a coordinator's own replica answers within its step, without a message, so it is
 * never delayed; and timers fire on whole milliseconds.
 */
import type { Cluster } from '../client/types.js';
import { FAULT_DELAY_MS_MAX } from '../transport/faults.js';
import { meanOf } from '../util/distributions.js';
import {
  describeProfile,
  type LatencyProfile,
  messageDelaysOf,
  ProfileError,
  WARS_CLASSES,
} from './profile.js';

/** How the profile reached the cluster, for the report. */
export interface NetworkDescription {
  /** The profile file, or null when none was given. */
  readonly profile: string | null;
  /** The profile's own description, if it has one. */
  readonly profileDescription: string | null;
  /** One line per class: `w  replica-put  exp(mean 2ms)`. */
  readonly classes: readonly string[];
  /**
   * `none`: no delay injected; `per-class`: each WARS class delays its message type;
   * `uniform-mean`: one delay (`delayMs`) for every node-to-node message.
   */
  readonly mode: 'none' | 'per-class' | 'uniform-mean';
  /** The uniform delay applied in `uniform-mean` mode, in ms (else 0). */
  readonly delayMs: number;
  /** One sentence for humans. */
  readonly note: string;
}

export interface NetworkPlan {
  /** What will be applied, as far as is known before a cluster exists. */
  readonly planned: NetworkDescription;
  /** Applies the delays to a running cluster and says how it did. */
  readonly apply: (cluster: Cluster) => Promise<NetworkDescription>;
}

const SELF_NOTE =
  "a coordinator's own replica is never delayed (it answers within its step); timers round to whole ms";

const NO_DELAY: NetworkDescription = {
  profile: null,
  profileDescription: null,
  classes: [],
  mode: 'none',
  delayMs: 0,
  note: 'no profile: no network delay injected',
};

/** The uniform delay standing in for a profile: the mean of its four class means. */
export function uniformDelayMs(profile: LatencyProfile): number {
  const mean = WARS_CLASSES.reduce((sum, c) => sum + meanOf(profile[c]), 0) / WARS_CLASSES.length;
  if (!Number.isFinite(mean)) {
    throw new ProfileError(
      'the profile has an infinite mean (pareto alpha <= 1): no uniform delay',
    );
  }
  return Math.min(FAULT_DELAY_MS_MAX, Number(mean.toFixed(3)));
}

export function networkPlan(
  profile: LatencyProfile | null,
  path: string | null,
  seed = 1,
): NetworkPlan {
  if (profile === null) return { planned: NO_DELAY, apply: async () => NO_DELAY };
  const base = {
    profile: path,
    profileDescription: profile.description ?? null,
    classes: describeProfile(profile),
  };
  const perClass: NetworkDescription = {
    ...base,
    mode: 'per-class',
    delayMs: 0,
    note: `per-message-class delays (WARS w/a/r/s on replica-put/-ack/-get/-get-reply); ${SELF_NOTE}`,
  };
  const delayMs = uniformDelayMs(profile);
  const uniform: NetworkDescription = {
    ...base,
    mode: 'uniform-mean',
    delayMs,
    note:
      `per-message-class delays are not available: every node-to-node message is delayed by ` +
      `the profile's mean, ${delayMs} ms; ${SELF_NOTE}`,
  };
  return {
    planned: perClass,
    apply: async (cluster) => {
      const withClasses = cluster as Partial<Pick<Cluster, 'setMessageDelays'>>;
      if (typeof withClasses.setMessageDelays === 'function') {
        await withClasses.setMessageDelays(messageDelaysOf(profile), seed);
        return perClass;
      }
      await cluster.setNetwork({ delayMs, jitterMs: 0, lossRate: 0 });
      return uniform;
    },
  };
}
