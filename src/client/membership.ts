/**
 * The client's view of who is in the cluster, and the membership changes it drives.
 *
 * The view: the node ids the cluster has (running or not, in order of creation), the newest ring
 * state the client has seen, and the committed ring requests are routed by. A change:
 * - addNode: start a worker for a fresh id from the cluster's current ring state, ask a running
 *   member (the claimant) to begin a `join`, then wait until every running node is on the
 *   committed ring with nothing left to hand over;
 * - removeNode: `leave` for a running node (it streams its data away, then drains), `remove` for
 *   a down one (the others re-replicate among themselves); wait as above, then stop the node for
 *   good and drop it from the view.
 * Changes run one at a time: each waits for the one before (a promise chain), so two calls
 * never race; a change begun elsewhere and still running is a BusyError from the claimant.
 */
import type { RingkvConfig } from '../config.js';
import { MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX } from '../config.js';
import { Ring } from '../core/ring.js';
import {
  initialRingState,
  nodesOf,
  type RingChange,
  type RingState,
  supersedesRing,
} from '../core/ring-state.js';
import { nodeId } from '../core/types.js';
import { BusyError, UnavailableError, ValidationError } from '../errors.js';
import { isNodeIdText, NODE_ID_LENGTH_MAX } from '../util/node-id.js';
import type { NodeProcesses } from './cluster-control.js';
import {
  askAll,
  awaitSettled,
  type NodeRingStatus,
  type RingWatchHost,
  startChange,
  transferDelta,
} from './ring-watch.js';
import type {
  AddNodeOptions,
  Membership,
  MembershipChangeResult,
  RemoveNodeOptions,
} from './types.js';
import { validateTimeout } from './validate.js';

/** A change once begun: what the wait and the result need. */
interface Begun {
  readonly kind: RingChange['kind'];
  readonly id: string;
  readonly claimant: string;
  /** The ring version every node must reach. */
  readonly version: number;
  readonly before: ReadonlyMap<string, NodeRingStatus>;
  readonly startedMs: number;
  readonly deadlineMs: number;
}

export class ClusterMembership {
  private readonly ids: string[];
  /** Every id the cluster ever had: a fresh id is never one of them. */
  private readonly used: Set<string>;
  /** Nodes a removeNode was asked for and that are not gone yet. */
  private readonly leaving = new Set<string>();
  private state: RingState;
  private committed: Ring;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    ring: Ring,
    ids: readonly string[],
    private readonly config: RingkvConfig,
    /** Admin requests to nodes, and who is up. */
    private readonly host: RingWatchHost,
    /** Starts and stops the nodes a change adds or removes. */
    private readonly processes: NodeProcesses,
    /** Ids that left earlier (from the membership file of a durable cluster). */
    removed: readonly string[] = [],
    /** The ids the first ring was created from, in order (saved with the node list). */
    private readonly initial: readonly string[] = ids,
  ) {
    this.ids = [...ids];
    this.used = new Set([...ids, ...removed]);
    this.committed = ring;
    this.state = initialRingState(ring);
  }

  /**
   * At start: takes in the newest ring state the running nodes hold (a durable cluster that
   * changed membership before it was restarted routes by its committed ring, not the first one).
   */
  async sync(): Promise<void> {
    const host = this.host;
    // A node that does not answer is left out (askAll never throws): requests still reach the
    // right replicas by forwarding.
    const statuses = await askAll(
      host,
      this.ids.filter((id) => host.link.isUp(id)),
    );
    const state = newest(statuses);
    if (state !== null) this.adopt(state);
  }

  /** Hands the node list to the runtime, which keeps it when the cluster is durable. */
  private save(): void {
    const removed = [...this.used].filter((id) => !this.ids.includes(id));
    this.processes.saveMembership({ initial: this.initial, nodes: [...this.ids], removed });
  }

  /** The ring requests are routed by: the last committed one. */
  get ring(): Ring {
    return this.committed;
  }

  get nodeIds(): readonly string[] {
    return this.ids;
  }

  /** Version of the last committed ring the client knows. */
  get version(): number {
    return this.state.next === null ? this.state.version : this.state.version - 1;
  }

  membershipOf(id: string): Membership {
    const owns = this.state.owners.includes(nodeId(id));
    const next = this.state.next;
    if (next === null) return owns && !this.leaving.has(id) ? 'member' : this.pendingKind(id);
    const gets = next.includes(nodeId(id));
    if (owns && gets) return 'member';
    if (gets) return 'joining';
    return owns ? 'leaving' : this.pendingKind(id);
  }

  private pendingKind(id: string): Membership {
    return this.leaving.has(id) ? 'leaving' : 'joining';
  }

  /** Takes `state` in if it is newer than what the client knows; routes by it once committed. */
  adopt(state: RingState): void {
    if (!supersedesRing(state, this.state)) return;
    this.state = state;
    if (state.next !== null) return;
    this.committed = Ring.fromOwners(state.owners);
    this.processes.noteRingState(state); // a node (re)started from now on starts from it
  }

  /**
   * While a change the client knows of is running (one that timed out, say), asks a member how
   * it stands, so status and routing catch up with its commit. Cheap when nothing runs.
   */
  async refresh(): Promise<void> {
    if (this.state.next !== null) await this.sync();
  }

  addNode(options: AddNodeOptions = {}): Promise<MembershipChangeResult> {
    return this.serialize(() => this.join(options));
  }

  removeNode(id: string, options: RemoveNodeOptions = {}): Promise<MembershipChangeResult> {
    return this.serialize(() => this.leave(id, options));
  }

  private serialize<T>(change: () => Promise<T>): Promise<T> {
    const run = this.chain.then(change, change);
    this.chain = run.catch(() => {});
    return run;
  }

  private async join(options: AddNodeOptions): Promise<MembershipChangeResult> {
    const deadlineMs = Date.now() + this.timeoutOf(options.timeoutMs);
    const id = options.id === undefined ? this.freshId() : this.checkNewId(options.id);
    const host = this.host;
    const claimant = this.claimant(null);
    const startedMs = Date.now();
    const before = await this.current(claimant);
    const current = before.get(claimant)!.state;
    await this.processes.addNode(id, current).catch((error: unknown) => {
      const why = error instanceof Error ? error.message : String(error);
      throw new UnavailableError(`node ${id} could not start: ${why}`);
    });
    this.ids.push(id);
    this.used.add(id);
    this.save();
    if (this.processes.joinsItself === true) {
      return this.joined({ id, claimant, before, startedMs, deadlineMs });
    }
    let begun: RingState;
    try {
      begun = await startChange(host, claimant, { kind: 'join', node: nodeId(id) });
    } catch (error) {
      this.ids.splice(this.ids.indexOf(id), 1);
      this.save();
      await this.processes.forget(id);
      throw error;
    }
    this.adopt(begun);
    const version = begun.version + 1;
    return this.finish({ kind: 'join', id, claimant, version, before, startedMs, deadlineMs });
  }

  /** A node that ran its own join (joinsItself): waits for the committed change to settle. */
  private async joined(begun: Omit<Begun, 'kind' | 'version'>): Promise<MembershipChangeResult> {
    const statuses = await askAll(this.host, [begun.claimant]);
    const state = statuses.get(begun.claimant)?.state;
    if (state === undefined) throw new UnavailableError(`node ${begun.claimant} did not answer`);
    this.adopt(state);
    if (!nodesOf(state).includes(nodeId(begun.id))) {
      throw new UnavailableError(`node ${begun.id} started but is not in ${begun.claimant}'s ring`);
    }
    const version = state.next === null ? state.version : state.version + 1;
    return this.finish({ ...begun, kind: 'join', version });
  }

  private async leave(id: string, options: RemoveNodeOptions): Promise<MembershipChangeResult> {
    const deadlineMs = Date.now() + this.timeoutOf(options.timeoutMs);
    this.checkRemovable(id, options.force === true);
    const host = this.host;
    const kind = host.link.isUp(id) ? 'leave' : 'remove';
    const claimant = this.claimant(id);
    const startedMs = Date.now();
    // A down node that is still joining holds its change up: removing it calls the join off.
    const before = await this.current(claimant, kind === 'remove' ? id : null);
    const current = before.get(claimant)!.state;
    let version = current.version; // already out of the ring: an earlier attempt timed out
    const inRing = current.owners.includes(nodeId(id)) || current.next?.includes(nodeId(id));
    const departingDead = kind === 'remove' && current.departing.includes(nodeId(id));
    if (inRing || departingDead) {
      const begun = await startChange(host, claimant, { kind, node: nodeId(id) });
      this.adopt(begun);
      // A remove of a departing node takes effect at once; a change commits one version later.
      version = begun.next === null ? begun.version : begun.version + 1;
    }
    this.leaving.add(id);
    const result = await this.finish({
      kind,
      id,
      claimant,
      version,
      before,
      startedMs,
      deadlineMs,
    });
    await this.processes.forget(id);
    this.ids.splice(this.ids.indexOf(id), 1);
    this.save();
    this.leaving.delete(id);
    return result;
  }

  /**
   * The ring status of every running node, the claimant's included; a claimant that sees a
   * change running refuses another (BusyError), so this fails early the same way.
   */
  private async current(
    claimant: string,
    abortable: string | null = null,
  ): Promise<Map<string, NodeRingStatus>> {
    const host = this.host;
    const statuses = await askAll(
      host,
      this.ids.filter((id) => host.link.isUp(id)),
    );
    const state = statuses.get(claimant)?.state;
    if (state === undefined) throw new UnavailableError(`node ${claimant} did not answer`);
    this.adopt(state);
    const joining = (id: string) =>
      state.next?.includes(nodeId(id)) === true && !state.owners.includes(nodeId(id));
    if (state.next !== null && !(abortable !== null && joining(abortable))) {
      throw new BusyError(
        `membership change ${state.version} (claimant ${state.claimant}) is still running`,
      );
    }
    return statuses;
  }

  /** Waits for the change to settle everywhere, then routes by the committed ring. */
  private async finish(begun: Begun): Promise<MembershipChangeResult> {
    const what = `${begun.kind} ${begun.id}`;
    const after = await awaitSettled(this.host, {
      nodes: () => this.ids,
      version: begun.version,
      leaver: begun.kind === 'leave' ? begun.id : null,
      deadlineMs: begun.deadlineMs,
      what,
    });
    const committed = after.get(begun.claimant)?.state ?? newest(after);
    if (committed !== null) this.adopt(committed);
    return {
      id: begun.id,
      kind: begun.kind,
      version: committed?.version ?? begun.version,
      ms: Date.now() - begun.startedMs,
      ...transferDelta(begun.before, after),
    };
  }

  /** A running member to coordinate the change: in the ring, and not the node it is about. */
  private claimant(target: string | null): string {
    const { link } = this.host;
    const fits = (id: string) => id !== target && link.isUp(id);
    const claimant =
      this.ids.find((id) => fits(id) && this.committed.has(nodeId(id))) ?? this.ids.find(fits);
    if (claimant === undefined) {
      throw new UnavailableError('no running node can coordinate the membership change');
    }
    return claimant;
  }

  private checkRemovable(id: string, force: boolean): void {
    if (!this.ids.includes(id)) {
      const known = this.ids.join(', ');
      throw new ValidationError(`unknown node ${JSON.stringify(id)}; nodes are ${known}`);
    }
    if (this.ids.length === 1) {
      throw new ValidationError(`node ${id} is the last node of the cluster`);
    }
    const left = this.ids.length - 1;
    if (left < this.config.n && !force) {
      throw new ValidationError(
        `removing ${id} leaves ${left} nodes for n=${this.config.n} replicas: every key would ` +
          'keep fewer than n copies and writes with w=n would fail; remove it anyway with ' +
          'force (CLI --force, HTTP ?force=1)',
      );
    }
  }

  /** `n<k>` for the smallest k above every numbered id the cluster ever had. */
  private freshId(): string {
    let k = 0;
    for (const id of this.used) {
      const match = /^n(\d+)$/.exec(id);
      if (match !== null) k = Math.max(k, Number(match[1]));
    }
    return `n${k + 1}`;
  }

  private checkNewId(id: unknown): string {
    if (!isNodeIdText(id)) {
      throw new ValidationError(
        `node id must be 1..${NODE_ID_LENGTH_MAX} letters, digits, '.', '_' or '-', got ${JSON.stringify(id)}`,
      );
    }
    if (this.ids.includes(id)) throw new ValidationError(`node id ${id} is in use`);
    if (this.used.has(id)) {
      throw new ValidationError(`node id ${id} was removed from this cluster; choose a fresh one`);
    }
    return id;
  }

  private timeoutOf(value: unknown): number {
    return validateTimeout(
      value,
      this.config.membershipChangeTimeoutMs,
      MEMBERSHIP_CHANGE_TIMEOUT_MS_MAX,
    );
  }
}

/** The newest state among the statuses, or null when there are none. */
function newest(statuses: ReadonlyMap<string, NodeRingStatus>): RingState | null {
  let best: RingState | null = null;
  for (const { state } of statuses.values()) {
    if (best === null || supersedesRing(state, best)) best = state;
  }
  return best;
}
