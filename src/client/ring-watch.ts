/**
 * Watching a membership change from the client: ask nodes for their ring status, start a change
 * on a claimant, and poll every running node until the change has committed everywhere and every
 * handover is finished, within a deadline. Each question to a node is bounded by the request
 * timeout; a node that does not answer counts as pending, never as done.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdminRequest, ClientResult, TransferStatus } from '../core/messages.js';
import type { RingChange, RingState } from '../core/ring-state.js';
import { nodeId } from '../core/types.js';
import { TimeoutError, UnavailableError } from '../errors.js';
import type { NodeLink } from './node-link.js';
import { toError } from './results.js';

/** How often a waiting change asks every node how far it is. */
export const POLL_INTERVAL_MS = 75;

export interface RingWatchHost {
  /** Sends an admin request to `node` and waits (bounded by the request timeout plus slack). */
  ask(node: string, request: AdminRequest): Promise<ClientResult>;
  /** Timeout of each admin request. */
  readonly requestTimeoutMs: number;
  /** Who is up, and the counters of a leaving node. */
  readonly link: Pick<NodeLink, 'isUp' | 'stats'>;
  /** True once the cluster is closing: a wait stops. */
  closed(): boolean;
}

export interface NodeRingStatus {
  readonly state: RingState;
  readonly transfer: TransferStatus;
}

/** `node`'s ring state and transfer progress; null when it is down or does not answer. */
export async function askRingStatus(
  host: RingWatchHost,
  node: string,
): Promise<NodeRingStatus | null> {
  if (!host.link.isUp(node)) return null;
  try {
    const result = await host.ask(node, { op: 'ring-status', timeoutMs: host.requestTimeoutMs });
    if (!result.ok || result.op !== 'ring-status') return null;
    return { state: result.state, transfer: result.transfer };
  } catch {
    return null; // timed out, or stopped while asked
  }
}

/** The ring status of every running node of `nodes` that answers. */
export async function askAll(
  host: RingWatchHost,
  nodes: readonly string[],
): Promise<Map<string, NodeRingStatus>> {
  const answers = await Promise.all(nodes.map((id) => askRingStatus(host, id)));
  const statuses = new Map<string, NodeRingStatus>();
  nodes.forEach((id, i) => {
    const status = answers[i];
    if (status != null) statuses.set(id, status);
  });
  return statuses;
}

/**
 * Asks `claimant` to start `change`; resolves with the transition state. A change already
 * running is a BusyError, a change the ring cannot make a ValidationError.
 */
export async function startChange(
  host: RingWatchHost,
  claimant: string,
  change: RingChange,
): Promise<RingState> {
  const request = { op: 'ring-change', change, timeoutMs: host.requestTimeoutMs } as const;
  const result = await host.ask(claimant, request);
  const what = `${change.kind} ${change.node}`;
  if (!result.ok) throw toError(result, what);
  if (result.op !== 'ring-change') throw new Error(`${what}: ${claimant} answered a ${result.op}`);
  return result.state;
}

export interface SettleGoal {
  /** The nodes to watch (those not running are skipped). */
  nodes(): readonly string[];
  /** Every watched node must be on this ring version or later, with no change running. */
  readonly version: number;
  /**
   * A leaving node: it must also have handed over all its hints, and every node must have seen
   * its departure end (the claimant drops it from `departing` once it drained everything).
   */
  readonly leaver: string | null;
  /** When to give up (Date.now() scale). */
  readonly deadlineMs: number;
  /** For the timeout message, e.g. "join n6". */
  readonly what: string;
}

/**
 * Polls until every watched running node is on `goal.version` with nothing left to send, drain
 * or acknowledge; resolves with their last statuses. Past the deadline a TimeoutError says which
 * node is still at what.
 */
export async function awaitSettled(
  host: RingWatchHost,
  goal: SettleGoal,
): Promise<Map<string, NodeRingStatus>> {
  const startedMs = Date.now();
  for (let round = 0; ; round++) {
    const nodes = goal.nodes().filter((id) => host.link.isUp(id));
    const statuses = await askAll(host, nodes);
    const pending = nodes.map((id) =>
      pendingOf(id, statuses.get(id) ?? null, goal.version, goal.leaver),
    );
    if (goal.leaver !== null) pending.push(await hintsPendingOn(host.link, goal.leaver));
    const left = pending.filter((reason): reason is string => reason !== null);
    if (left.length === 0) return statuses;
    if (host.closed()) throw new UnavailableError(`${goal.what}: the cluster was closed`);
    if (Date.now() >= goal.deadlineMs) {
      const ms = Date.now() - startedMs;
      throw new TimeoutError(
        `${goal.what} did not finish within ${ms} ms (${round + 1} checks); still pending: ${left.join('; ')}`,
      );
    }
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, goal.deadlineMs - Date.now())));
  }
}

/** What `id` still has to do before the change counts as finished there; null when nothing. */
export function pendingOf(
  id: string,
  status: NodeRingStatus | null,
  version: number,
  leaver: string | null = null,
) {
  if (status === null) return `${id} did not answer`;
  const { state, transfer } = status;
  if (state.version < version) return `${id} is on ring version ${state.version} of ${version}`;
  if (leaver !== null && state.departing.includes(nodeId(leaver))) {
    return `${id} still counts ${leaver} as departing (it has not reported drained)`;
  }
  if (state.next !== null) {
    return `${id}: change ${state.version} still running (${transfer.partitionsToSend} partitions to send)`;
  }
  if (transfer.keysToDrain > 0) return `${id} has ${transfer.keysToDrain} keys to hand over`;
  if (transfer.batchesInFlight > 0) {
    return `${id} has ${transfer.batchesInFlight} transfer batches unacknowledged`;
  }
  return null;
}

/** A leaving node must not take hints with it: null once it holds none (or is gone). */
async function hintsPendingOn(
  link: Pick<NodeLink, 'isUp' | 'stats'>,
  id: string,
): Promise<string | null> {
  if (!link.isUp(id)) return null;
  const stats = await link.stats(id);
  if (stats === null) return `${id} did not answer`;
  const hints = stats.core.hintsPending;
  return hints === 0 ? null : `${id} holds ${hints} hints`;
}

/** Keys streamed and drained, summed over nodes, between two rounds of statuses. */
export function transferDelta(
  before: ReadonlyMap<string, NodeRingStatus>,
  after: ReadonlyMap<string, NodeRingStatus>,
): { keysSent: number; keysDrained: number } {
  let keysSent = 0;
  let keysDrained = 0;
  for (const [id, { transfer }] of after) {
    const earlier = before.get(id)?.transfer;
    // A node that restarted meanwhile counts from zero again: never a negative delta.
    keysSent += Math.max(0, transfer.keysSent - (earlier?.keysSent ?? 0));
    keysDrained += Math.max(0, transfer.keysDrained - (earlier?.keysDrained ?? 0));
  }
  return { keysSent, keysDrained };
}
