/**
 * How the client reaches nodes: the one interface every runtime implements (worker threads
 * today; OS processes or sockets next). The client routes, retries and keeps deadlines above it;
 * a link only carries one request to one named node and says whether that node runs. The
 * runtime's object satisfies this shape structurally (runtime/ sits below client/ and does not
 * import it); the composition root (src/index.ts) plugs it in.
 */

import type { NodeKeyView } from '../core/explain.js';
import type { WarsLatencies } from '../core/latency-meter.js';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import type { NodeStats } from '../core/node.js';
import type { KeyRecord } from '../core/types.js';
import type { StorageStats } from '../storage/engine.js';
import type { FaultStats } from '../transport/faulty.js';
import type { TransportStats } from '../transport/transport.js';
import type { RunningSum } from '../util/running-sum.js';
import type { LaneStats } from './lane-counters.js';

/** One node's raw counters, as its runtime reports them. */
export interface NodeCountersSnapshot {
  /** The node's current actor id (it changes when an in-memory node restarts). */
  readonly actor: string;
  readonly keys: number;
  readonly core: NodeStats;
  /** The node's WARS latency histograms (core/latency-meter.ts); null when it measures none. */
  readonly latency: WarsLatencies | null;
  readonly transport: TransportStats;
  readonly faults: FaultStats;
  /** The storage engine's counts (log engine); null or absent when it keeps none. */
  readonly storage?: StorageStats | null;
}

/** What came of one request on a link: the node's answer, or the node stopped first. */
export type LinkReply =
  | { readonly kind: 'answer'; readonly result: ClientResult }
  | {
      readonly kind: 'down';
      /** Why, for the error message: "is not running", "exited with code 1", … */
      readonly reason: string;
    };

/** A request handed to a node: its outcome, and a way to stop waiting for it. */
export interface LinkCall {
  readonly reply: Promise<LinkReply>;
  /** Stop waiting: the link forgets the request and drops a late answer (reply never settles). */
  cancel(): void;
}

/** Where a node that is its own OS process serves clients itself. */
export interface NodeEndpoint {
  /** The node's own HTTP API, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  readonly pid: number;
}

export interface NodeLink {
  /** Whether `node` runs and takes requests now. */
  isUp(node: string): boolean;
  /**
   * Hands `request` to `node` (its `timeoutMs` is the coordinator's budget, relative). The reply
   * resolves with the answer, or `down` when the node is not running or stops before answering.
   * Never waits on a clock of its own: the caller bounds the wait and cancels.
   */
  send(node: string, request: ClientRequest): LinkCall;
  /** The node's counters; null when it is down or does not answer in time. */
  stats(node: string): Promise<NodeCountersSnapshot | null>;
  /** The node's local record for `key`; null when it holds none, is down or does not answer. */
  inspect(node: string, key: string): Promise<KeyRecord | null>;
  /** What `node` knows about `key` (core/explain.ts); null when it is down or does not answer. */
  explain(node: string, key: string): Promise<NodeKeyView | null>;
  /** Where the node serves HTTP itself, for runtimes whose nodes do (processes). @default none */
  endpoint?(node: string): NodeEndpoint | null;
  /** Each node's request-lane counters, for runtimes that reach nodes over lanes. @default none */
  laneStats?(): LaneStats[];
  /**
   * Requests answered so far and their summed service time (send to the node's answer leaving
   * it, on a clock the runtime's threads share), for runtimes that can tell. @default none
   */
  serviceTime?(): RunningSum;
}
