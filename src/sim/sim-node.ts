/**
 * Hosts one NodeCore on virtual time — the simulator's NodeHost. It feeds inputs to the core and
 * turns effects into scheduled events: a send goes to the network (and arrives as a `message`
 * input), a timer fires as a `timer` input, a persist is applied to SimStorage after a sampled
 * disk latency and then reported as `persisted`, a reply goes to the simulated client.
 *
 * Node faults:
 * - `crash()` drops the core and every pending event of this incarnation (events carry the
 *   incarnation they belong to): unfinished persists never apply, timers never fire, held inputs
 *   are lost. Completed persists stay in SimStorage.
 * - `restart()` builds a new NodeCore over the same SimStorage (or a wiped one), with the same
 *   boot ring state (the core starts from the newer of it and the state it stored). The actor is
 *   read from storage meta `actor`; a node without one (first boot, or wiped) takes
 *   `${id}.${bootCount}` and stores it — as src/runtime/actor.ts does with a random epoch.
 * - `pause()/resume()`: inputs (messages, timers, persist completions) are held while paused and
 *   delivered in order on resume, like a process stopped by SIGSTOP. Disk writes still complete.
 *
 * Clock skew: the core reads no clock — timers are relative delays — so skew is modelled as a
 * per-node timer rate: a timer of d ms fires after d × timerRate virtual ms (0.9–1.1 in swarms).
 * The wall clock the core is given for expiry deadlines is virtual time plus a per-node offset
 * (`clockOffsetMs`, from the scenario's TTL plan).
 */
import { assert } from '../core/assert.js';
import type { Effect } from '../core/effects.js';
import type { ClientResult, PeerMessage } from '../core/messages.js';
import { type Input, NodeCore, type NodeCoreOptions } from '../core/node.js';
import type { Ring } from '../core/ring.js';
import type { RingState } from '../core/ring-state.js';
import type { NodeId } from '../core/types.js';
import type { SimStorage } from './sim-storage.js';

/** Core options the simulator chooses (everything but identity, ring and storage). */
export type CoreTunables = Omit<NodeCoreOptions, 'id' | 'actor' | 'ring' | 'store'>;

/** What a node needs from the simulator around it. */
export interface NodeEnv {
  readonly ring: Ring;
  readonly tunables: CoreTunables;
  nowMs(): number;
  /** Runs `action` at virtual time `timeMs` (not before now). */
  at(timeMs: number, action: () => void): void;
  send(from: NodeId, to: NodeId, message: PeerMessage): void;
  reply(from: NodeId, reqId: number, result: ClientResult): void;
  diskLatencyMs(): number;
  /** The core threw: a bug in ringkv. The node is crashed right after. */
  fault(node: NodeId, error: unknown): void;
}

export type NodeState = 'up' | 'paused' | 'down';

/**
 * The Unix time (ms) virtual time 0 stands for on a node's wall clock: expiry deadlines are
 * Unix times, and a realistic magnitude keeps them honest. The checker converts with it too.
 */
export const SIM_WALL_EPOCH_MS = 1_700_000_000_000;

/** Messages held for a paused node beyond this are dropped (a full socket buffer). */
export const HELD_MESSAGES_MAX = 50_000;
const ACTOR_META = 'actor';

export class SimNode {
  private core: NodeCore | null = null;
  /** Bumped on every start; events of an older incarnation are ignored. */
  incarnation = 0;
  bootCount = 0;
  private paused = false;
  private held: Input[] = [];
  private heldMessages = 0;
  private readonly liveTimers = new Set<number>();
  /** The simulated disk is FIFO: a persist never completes before an earlier one. */
  private diskFreeAtMs = 0;
  /** Timer delays are multiplied by this (clock skew). */
  timerRate = 1;
  /** This node's wall clock (expiry deadlines) minus true time, in ms (clock skew). */
  clockOffsetMs = 0;
  actor = '';
  readonly counters = { steps: 0, heldDropped: 0, persists: 0 };

  constructor(
    readonly id: NodeId,
    readonly storage: SimStorage,
    private readonly env: NodeEnv,
    /**
     * The ring state this node boots with on every start (a joiner gets the cluster's, as the
     * launcher passes it on the command line); null: the ring the cluster started with.
     */
    readonly bootState: RingState | null = null,
  ) {}

  get state(): NodeState {
    if (this.core === null) return 'down';
    return this.paused ? 'paused' : 'up';
  }

  /** The running core (for inspection in tests), or null while down. */
  get nodeCore(): NodeCore | null {
    return this.core;
  }

  /** Boots a core over the storage; `initial` inputs (peer statuses) are fed first. */
  start(initial: readonly Input[] = []): void {
    assert(this.core === null, `node ${this.id} is down before it starts`);
    this.incarnation++;
    this.bootCount++;
    this.paused = false;
    this.actor = this.loadActor();
    this.core = new NodeCore({
      ...this.env.tunables,
      id: this.id,
      actor: this.actor,
      ring: this.env.ring,
      ...(this.bootState === null ? {} : { ringState: this.bootState }),
      store: this.storage,
      wallClockMs: () => SIM_WALL_EPOCH_MS + this.env.nowMs() + this.clockOffsetMs,
    });
    this.input({ kind: 'start' });
    for (const input of initial) this.input(input);
  }

  crash(): void {
    assert(this.core !== null, `node ${this.id} is running when it crashes`);
    this.core = null;
    this.paused = false;
    this.held = [];
    this.heldMessages = 0;
    this.liveTimers.clear();
  }

  /** Restarts a crashed node; `wipe` loses its disk too (and so its actor). */
  restart(initial: readonly Input[] = [], options: { wipe?: boolean } = {}): void {
    if (options.wipe === true) this.storage.wipe();
    this.start(initial);
  }

  pause(): void {
    assert(this.state === 'up', `node ${this.id} is up when paused`);
    this.paused = true;
  }

  resume(): void {
    assert(this.state === 'paused', `node ${this.id} is paused when resumed`);
    this.paused = false;
    const held = this.held;
    this.held = [];
    this.heldMessages = 0;
    for (const input of held) {
      if (this.core === null) return; // a core fault crashed it while draining
      this.step(input);
    }
  }

  /** Feeds an input now: held while paused, dropped while down or for an older incarnation. */
  input(input: Input, incarnation = this.incarnation): void {
    if (this.core === null || incarnation !== this.incarnation) return;
    if (!this.paused) return this.step(input);
    if (input.kind === 'message') {
      if (this.heldMessages >= HELD_MESSAGES_MAX) {
        this.counters.heldDropped++;
        return;
      }
      this.heldMessages++;
    }
    this.held.push(input);
  }

  private step(input: Input): void {
    const core = this.core;
    assert(core !== null, 'only a running node steps');
    this.counters.steps++;
    let effects: Effect[];
    try {
      effects = core.step(input);
    } catch (error) {
      this.env.fault(this.id, error);
      if (this.core === core) this.crash();
      return;
    }
    for (const effect of effects) this.execute(effect);
  }

  private execute(effect: Effect): void {
    const incarnation = this.incarnation;
    switch (effect.kind) {
      case 'send':
        return this.env.send(this.id, effect.to, effect.message);
      case 'reply':
        return this.env.reply(this.id, effect.reqId, effect.result);
      case 'set-timer': {
        const { timerId } = effect;
        assert(effect.delayMs >= 0, 'timer delays are not negative');
        this.liveTimers.add(timerId);
        const dueMs = this.env.nowMs() + effect.delayMs * this.timerRate;
        return this.env.at(dueMs, () => {
          if (incarnation !== this.incarnation || !this.liveTimers.delete(timerId)) return;
          this.input({ kind: 'timer', timerId }, incarnation);
        });
      }
      case 'cancel-timer':
        this.liveTimers.delete(effect.timerId);
        return;
      case 'persist':
        return this.persist(effect, incarnation);
      case 'peer-address':
        return; // simulated nodes carry no addresses: the network reaches them by id
    }
  }

  private persist(effect: Effect & { kind: 'persist' }, incarnation: number): void {
    this.counters.persists++;
    const doneMs = Math.max(this.env.nowMs() + this.env.diskLatencyMs(), this.diskFreeAtMs);
    this.diskFreeAtMs = doneMs;
    this.env.at(doneMs, () => {
      if (incarnation !== this.incarnation || this.core === null) return; // lost in a crash
      this.storage.apply(effect.writes);
      this.input({ kind: 'persisted', token: effect.token }, incarnation);
    });
  }

  private loadActor(): string {
    const stored = this.storage.getMeta(ACTOR_META);
    if (typeof stored === 'string' && stored.startsWith(`${this.id}.`)) return stored;
    const actor = `${this.id}.${this.bootCount}`;
    this.storage.apply([{ ns: 'meta', name: ACTOR_META, value: actor }]);
    return actor;
  }
}
