/**
 * The admin API of one node process (`ringkv node`): taking a node out of the ring, with this
 * node as the change's claimant. `DELETE /admin/nodes/:id` (and `ringkv remove-node ID --url`)
 * on any member: a running node `leave`s (it hands its data over, then its process exits 0), a
 * node this one holds down is `remove`d (the others re-replicate its keys). The answer comes
 * once the change committed here and the leaver reported that it drained everything; the
 * counts of keys moved are this node's own (it cannot see the others' counters). Adding a node
 * is `ringkv node --join` on the new machine; kill, restart and network faults belong to
 * `ringkv up`: they are refused with a reason.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { toError } from '../client/results.js';
import { askRingStatus, pendingOf, transferDelta } from '../client/ring-watch.js';
import type {
  ClusterAdmin,
  MembershipChangeResult,
  NetworkStatus,
  RemoveNodeOptions,
} from '../client/types.js';
import { validateTimeout } from '../client/validate.js';
import {
  MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX,
  NODE_MEMBERSHIP_POLL_MS,
  type RingkvConfig,
} from '../config.js';
import { nodesOf } from '../core/ring-state.js';
import { nodeId } from '../core/types.js';
import { TimeoutError, UnavailableError, ValidationError } from '../errors.js';
import type { ProcessNode } from '../runtime/process-node.js';

export class NodeAdmin implements ClusterAdmin {
  constructor(
    private readonly node: ProcessNode,
    private readonly config: RingkvConfig,
  ) {}

  /** Every node of this node's ring state (owners, joining, departing). */
  get nodeIds(): readonly string[] {
    return nodesOf(this.node.ringState);
  }

  killNode(): Promise<boolean> {
    return refuse('kill nodes: stop the node process itself');
  }

  restartNode(): Promise<boolean> {
    return refuse('restart nodes: start the node process again with its command');
  }

  partition(): Promise<NetworkStatus> {
    return refuse('partition the network');
  }

  heal(): Promise<NetworkStatus> {
    return refuse('heal the network');
  }

  setNetwork(): Promise<NetworkStatus> {
    return refuse('inject network faults');
  }

  addNode(): Promise<MembershipChangeResult> {
    return refuse('start nodes: run `ringkv node --join HOST:PORT` on the new machine');
  }

  async removeNode(id: string, options: RemoveNodeOptions = {}): Promise<MembershipChangeResult> {
    const { config, node } = this;
    const timeoutMs = validateTimeout(
      options.timeoutMs,
      config.membershipChangeTimeoutMs,
      MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX,
    );
    const startedMs = Date.now();
    const deadlineMs = startedMs + timeoutMs;
    this.checkRemovable(id, options.force === true);
    const kind = id === node.id || !node.isPeerDown(id) ? 'leave' : 'remove';
    const host = this.watchHost();
    const before = await askRingStatus(host, node.id);
    if (before === null) throw new UnavailableError(`node ${node.id} did not answer`);
    const change = { kind, node: nodeId(id) } as const;
    const result = await node.ask({
      op: 'ring-change',
      change,
      timeoutMs: config.requestTimeoutMs,
    });
    if (!result.ok) throw toError(result, `${kind} ${id}`);
    if (result.op !== 'ring-change') throw new Error(`${kind} ${id}: answered ${result.op}`);
    const begun = result.state;
    const version = begun.next === null ? begun.version : begun.version + 1;
    const leaver = kind === 'leave' ? id : null;
    for (;;) {
      const status = await askRingStatus(host, node.id);
      const pending = pendingOf(node.id, status, version, leaver);
      if (pending === null && status !== null) {
        const delta = transferDelta(new Map([[node.id, before]]), new Map([[node.id, status]]));
        const ms = Date.now() - startedMs;
        return { id, kind, version: status.state.version, ms, ...delta };
      }
      if (Date.now() >= deadlineMs) {
        throw new TimeoutError(`${kind} ${id} did not finish within ${timeoutMs} ms: ${pending}`);
      }
      await sleep(NODE_MEMBERSHIP_POLL_MS);
    }
  }

  private checkRemovable(id: string, force: boolean): void {
    const state = this.node.ringState;
    const members = new Set<string>(state.next ?? state.owners);
    if (!nodesOf(state).includes(nodeId(id))) {
      const known = [...members].sort().join(', ');
      throw new ValidationError(
        `node ${JSON.stringify(id)} is not in the ring; nodes are ${known}`,
      );
    }
    const left = members.size - (members.has(id) ? 1 : 0);
    if (left === 0) throw new ValidationError(`node ${id} is the last node of the cluster`);
    if (left < this.config.n && !force) {
      throw new ValidationError(
        `removing ${id} leaves ${left} nodes for n=${this.config.n} replicas: every key would ` +
          'keep fewer than n copies; remove it anyway with force (CLI --force, HTTP ?force=1)',
      );
    }
  }

  /** What the ring-watch helpers need to ask this node's own core. */
  private watchHost() {
    const { node, config } = this;
    return {
      ask: (_to: string, request: Parameters<ProcessNode['ask']>[0]) => node.ask(request),
      requestTimeoutMs: config.requestTimeoutMs,
      link: node.link,
      closed: () => !node.isRunning,
    };
  }
}

function refuse(what: string): Promise<never> {
  return Promise.reject(new UnavailableError(`a ringkv node process cannot ${what}`));
}
