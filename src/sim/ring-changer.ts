/**
 * An operator making one membership change in a simulated run, as a person with the admin CLI
 * would: at the planned time it starts a joiner (join), or crashes the node for good (remove),
 * then sends `ring-change` to a running member and retries — after a refusal (busy, or a leaver
 * that is down), or when no answer comes (the node it asked crashed) — until the change shows in
 * the newest ring state, and again if it vanishes before it committed (a claimant wiped before
 * the change spread). Whether the change then commits is for the liveness phase and the checks
 * (ring-check.ts) to see.
 */
import { assert } from '../core/assert.js';
import type { ClientResult } from '../core/messages.js';
import type { RingChange } from '../core/ring-state.js';
import type { NodeId } from '../core/types.js';
import type { Prng } from '../util/prng.js';
import type { Simulator } from './simulator.js';

export interface ChangePlan {
  readonly kind: RingChange['kind'];
  /** When the operator acts, in virtual ms after `start()`. */
  readonly atMs: number;
  /** The node that leaves or is removed; absent: a random member. A join adds a new node. */
  readonly node?: NodeId;
  /** The node asked, which becomes the claimant; absent: a random running member per attempt. */
  readonly via?: NodeId;
}

/** How long the operator waits for an answer before asking again. */
const ANSWER_WAIT_MS = 1_000;
/** Pause after a refusal before the next attempt. */
const RETRY_DELAY_MS = 250;
/** Attempts before the operator gives up (the checks then report the missing change). */
export const CHANGE_ATTEMPTS_MAX = 400;

export class RingChanger {
  /** The change, once the operator acted (the node is known then). */
  change: RingChange | null = null;
  attempts = 0;
  /** Answers that refused the change, by error. */
  readonly refusals = new Map<string, number>();
  /** Virtual time a node accepted the change; null before. */
  acceptedAtMs: number | null = null;

  constructor(
    private readonly sim: Simulator,
    private readonly prng: Prng,
    readonly plan: ChangePlan,
  ) {
    assert(plan.atMs >= 0, 'a change is planned at or after the start');
  }

  start(): void {
    this.sim.after(this.plan.atMs, () => this.act());
  }

  /** The change shows in the newest ring state (running or committed). */
  get visible(): boolean {
    const change = this.change;
    if (change === null) return false;
    const state = this.sim.ringState;
    const member = (state.next ?? state.owners).includes(change.node);
    return change.kind === 'join' ? member : !member;
  }

  private act(): void {
    const { kind } = this.plan;
    const node = kind === 'join' ? this.sim.addNode() : (this.plan.node ?? this.pickMember());
    if (kind === 'remove' && !this.sim.isRetired(node)) this.sim.retire(node);
    this.change = { kind, node };
    this.attempt();
  }

  private pickMember(): NodeId {
    const members = this.sim.ring.nodes().filter((id) => !this.sim.isRetired(id));
    assert(members.length > 0, 'a ring has members to change');
    return this.prng.pick(members);
  }

  private attempt(): void {
    const change = this.change;
    assert(change !== null, 'an attempt follows the act');
    if (this.visible) {
      // Keep watching until it commits: a claimant wiped before the change spread loses it.
      if (this.sim.ringState.next !== null) this.retry(ANSWER_WAIT_MS);
      return;
    }
    if (this.attempts >= CHANGE_ATTEMPTS_MAX) return;
    this.attempts++;
    const via = this.pickVia();
    if (via === null) return this.retry(RETRY_DELAY_MS);
    let answered = false;
    this.sim.admin(via, { op: 'ring-change', change, timeoutMs: ANSWER_WAIT_MS }, (result) => {
      answered = true;
      this.onAnswer(result);
    });
    this.sim.after(ANSWER_WAIT_MS, () => {
      if (!answered) this.attempt();
    });
  }

  private onAnswer(result: ClientResult): void {
    if (result.ok) {
      // Accepted; look again later, as the claimant may crash before anyone else has the change.
      this.acceptedAtMs ??= this.sim.nowMs();
      return this.retry(ANSWER_WAIT_MS);
    }
    const error = result.error;
    this.refusals.set(error, (this.refusals.get(error) ?? 0) + 1);
    this.retry(RETRY_DELAY_MS);
  }

  private retry(delayMs: number): void {
    this.sim.after(delayMs, () => this.attempt());
  }

  /** The node to ask: the planned one, else a random running member; null when none runs. */
  private pickVia(): NodeId | null {
    const up = (id: NodeId) => this.sim.node(id).state === 'up';
    if (this.plan.via !== undefined) return up(this.plan.via) ? this.plan.via : null;
    const members = this.sim.ring.nodes().filter(up);
    return members.length === 0 ? null : this.prng.pick(members);
  }
}
