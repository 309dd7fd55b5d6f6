/**
 * The cluster's injected network conditions, as the launcher keeps them: an optional partition
 * and the delay / jitter / loss every node applies to its outgoing peer messages, plus optional
 * per-message-type delay distributions (for benchmarks). It turns them into each node's faults
 * (WorkerFaults: transport/faults.ts plus the delays) and validates changes, throwing a
 * ValidationError for bad input before anything changes.
 *
 * Partition semantics: nodes in different groups cannot exchange messages (both directions are
 * dropped). Nodes the caller does not list form one more group together, so `partition([['n1']])`
 * isolates n1 from the rest. Clients are not partitioned: the launcher (main thread) still
 * reaches every node, as if each client could reach both sides.
 */
import { ValidationError } from '../errors.js';
import { FAULT_DELAY_MS_MAX } from '../transport/faults.js';
import { DistError, parseDist } from '../util/distributions.js';
import type { MessageDelays, WorkerFaults } from './control.js';

export interface NetworkSettings {
  /** Delay added to every node-to-node message, in ms. */
  readonly delayMs: number;
  /** Plus a uniform random extra delay in [0, jitterMs). */
  readonly jitterMs: number;
  /** Probability (0..1) that a node-to-node message is lost. */
  readonly lossRate: number;
}

export interface NetworkView extends NetworkSettings {
  /** The partition in force, the implicit group of unlisted nodes last; null when healed. */
  readonly groups: readonly (readonly string[])[] | null;
}

export const CLEAR_NETWORK: NetworkSettings = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  lossRate: 0,
});

export class NetworkState {
  /** The partition as the caller listed it (validated), null when healed. */
  private listed: readonly (readonly string[])[] | null = null;
  private groups: readonly (readonly string[])[] | null = null;
  private groupByNode = new Map<string, number>();
  private readonly nodeIds: string[];
  private settings: NetworkSettings = CLEAR_NETWORK;
  /** Per-message-type delays (benchmarks), with the seed of the nodes' samplers. */
  private messageDelays: { readonly delays: MessageDelays; readonly seed: number } | null = null;
  /** Bumped on every change, so a node that was starting meanwhile can be brought up to date. */
  version = 0;

  constructor(nodeIds: readonly string[]) {
    this.nodeIds = [...nodeIds];
  }

  /**
   * A node joined the cluster. Under a partition it falls in the group of unlisted nodes (a
   * group of its own when the partition listed every node), as partition() defines.
   */
  addNode(id: string): void {
    if (this.nodeIds.includes(id)) return;
    this.nodeIds.push(id);
    if (this.listed !== null) this.applyGroups(this.listed);
    this.version++;
  }

  /** A node left the cluster for good: it drops out of the partition's groups. */
  removeNode(id: string): void {
    const index = this.nodeIds.indexOf(id);
    if (index === -1) return;
    this.nodeIds.splice(index, 1);
    if (this.listed !== null) {
      const listed = this.listed.map((group) => group.filter((node) => node !== id));
      this.applyGroups(listed.filter((group) => group.length > 0));
    }
    this.version++;
  }

  view(): NetworkView {
    return { ...this.settings, groups: this.groups?.map((group) => [...group]) ?? null };
  }

  /** The index of `id`'s group in the partition, or null when there is none. */
  groupOf(id: string): number | null {
    return this.groupByNode.get(id) ?? null;
  }

  partition(groups: unknown): void {
    this.applyGroups(checkGroups(groups, this.nodeIds));
    this.version++;
  }

  /** Puts `listed` in force, with the nodes it does not list as one more group. */
  private applyGroups(listed: readonly (readonly string[])[]): void {
    const named = new Set(listed.flat());
    const rest = this.nodeIds.filter((id) => !named.has(id));
    this.listed = listed;
    this.groups = rest.length === 0 ? listed : [...listed, rest];
    this.groupByNode = new Map(this.groups.flatMap((group, i) => group.map((id) => [id, i])));
  }

  heal(): void {
    this.listed = null;
    this.groups = null;
    this.groupByNode = new Map();
    this.version++;
  }

  /** Applies a patch: fields left undefined keep their current value. */
  setNetwork(patch: Partial<NetworkSettings>): void {
    if (typeof patch !== 'object' || patch === null) {
      throw new ValidationError('network settings must be an object');
    }
    const next: { -readonly [K in keyof NetworkSettings]: number } = { ...this.settings };
    for (const [name, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (name === 'delayMs' || name === 'jitterMs') next[name] = checkDelay(name, value);
      else if (name === 'lossRate') next.lossRate = checkLoss(value);
      else throw new ValidationError(`unknown network setting ${JSON.stringify(name)}`);
    }
    this.settings = next;
    this.version++;
  }

  /** What node `id` must apply: its network settings and the peers outside its group. */
  faultsFor(id: string): WorkerFaults {
    const group = this.groupOf(id);
    const blockedPeers =
      group === null ? [] : this.nodeIds.filter((peer) => this.groupOf(peer) !== group);
    if (this.messageDelays === null) return { ...this.settings, blockedPeers };
    const { delays, seed } = this.messageDelays;
    return { ...this.settings, blockedPeers, messageDelays: delays, delaySeed: seed };
  }

  /** Sets (or, with null or `{}`, removes) per-message-type delays; see Cluster.setMessageDelays. */
  setMessageDelays(delays: unknown, seed = 0): void {
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
      throw new ValidationError(`seed must be an integer in 0..4294967295, got ${String(seed)}`);
    }
    if (delays === null || (typeof delays === 'object' && Object.keys(delays).length === 0)) {
      this.messageDelays = null;
    } else {
      this.messageDelays = { delays: checkMessageDelays(delays), seed };
    }
    this.version++;
  }
}

function checkGroups(groups: unknown, nodeIds: readonly string[]): string[][] {
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new ValidationError('a partition needs at least one group of node ids');
  }
  const seen = new Map<string, number>();
  return groups.map((group: unknown, i) => {
    if (!Array.isArray(group) || group.length === 0) {
      throw new ValidationError(`partition group ${i + 1} must be a non-empty list of node ids`);
    }
    return group.map((id: unknown) => {
      if (typeof id !== 'string' || !nodeIds.includes(id)) {
        throw new ValidationError(
          `unknown node ${JSON.stringify(id)} in partition group ${i + 1}; nodes are ${nodeIds.join(', ')}`,
        );
      }
      const earlier = seen.get(id);
      if (earlier !== undefined) {
        throw new ValidationError(
          `node ${id} is in partition groups ${earlier + 1} and ${i + 1}; a node belongs to one group`,
        );
      }
      seen.set(id, i);
      return id;
    });
  });
}

/** Checks per-message-type delays (each a distribution); a ValidationError names the problem. */
export function checkMessageDelays(delays: unknown): MessageDelays {
  if (typeof delays !== 'object' || delays === null || Array.isArray(delays)) {
    throw new ValidationError('message delays must be an object of message type → distribution');
  }
  const checked: Record<string, MessageDelays[string]> = {};
  for (const [type, dist] of Object.entries(delays)) {
    try {
      checked[type] = parseDist(dist);
    } catch (error) {
      if (!(error instanceof DistError)) throw error;
      throw new ValidationError(`message delay of ${type}: ${error.message}`);
    }
  }
  return checked;
}

function checkDelay(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(`${name} must be a non-negative number, got ${String(value)}`);
  }
  if (value > FAULT_DELAY_MS_MAX) {
    throw new ValidationError(`${name} must be at most ${FAULT_DELAY_MS_MAX} ms, got ${value}`);
  }
  return value;
}

function checkLoss(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ValidationError(`lossRate must be a number between 0 and 1, got ${String(value)}`);
  }
  return value;
}
