/**
 * A small deterministic harness for `Membership`: M instances, a lossy network with sampled
 * latency, staggered gossip and probe ticks, crashes. One seed drives one Prng for everything,
 * so a seed reproduces a run exactly. Time is virtual; nothing sleeps.
 */
import { DEFAULT_CONFIG, membershipConfig } from '../config.js';
import { assert } from '../core/assert.js';
import {
  type MemberStatus,
  pickWith,
  Swim,
  type SwimConfig,
  type SwimMessage,
  type SwimOutput,
  type SwimTimer,
} from '../core/swim.js';
import { type NodeId, nodeId } from '../core/types.js';
import { type Dist, sampleDist } from '../util/distributions.js';
import { Prng } from '../util/prng.js';
import { EventQueue } from './event-queue.js';

export interface GossipSimOptions {
  readonly nodes: number;
  readonly seed: number;
  /** Probability that any one message is lost. @default 0 */
  readonly lossRate?: number;
  /** One-way latency. @default { exp: { rate: 0.2 } } — mean 5 ms */
  readonly latency?: Dist;
  /** How many of the first nodes every node starts knowing. @default 1 */
  readonly seedCount?: number;
  readonly config?: Partial<SwimConfig>;
  /** Bound on events handled per `runUntil`, against runaway loops. @default 50_000_000 */
  readonly eventsMax?: number;
}

type SimEvent =
  | { readonly kind: 'deliver'; readonly to: number; readonly message: SwimMessage }
  | { readonly kind: 'gossip'; readonly node: number }
  | { readonly kind: 'probe'; readonly node: number }
  | { readonly kind: 'timer'; readonly node: number; readonly timer: SwimTimer };

/** A `dead` verdict some node reached about another, with the time. */
export interface DeathVerdict {
  readonly atMs: number;
  readonly by: NodeId;
  readonly about: NodeId;
}

export class GossipSim {
  readonly prng: Prng;
  readonly ids: NodeId[];
  readonly members: Swim[];
  readonly crashed = new Set<number>();
  /** Nodes cut off from the network: messages to and from them are lost. */
  readonly isolated = new Set<number>();
  readonly deaths: DeathVerdict[] = [];
  nowMs = 0;
  messagesSent = 0;
  messagesLost = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly index = new Map<NodeId, number>();
  private readonly lossRate: number;
  private readonly latency: Dist;
  private readonly eventsMax: number;

  constructor(options: GossipSimOptions) {
    assert(options.nodes >= 1 && options.nodes <= 1024, 'node count in 1..1024');
    this.prng = new Prng(options.seed);
    this.lossRate = options.lossRate ?? 0;
    this.latency = options.latency ?? { exp: { rate: 0.2 } };
    this.eventsMax = options.eventsMax ?? 50_000_000;
    this.ids = Array.from({ length: options.nodes }, (_, i) => nodeId(`n${i}`));
    for (const [i, id] of this.ids.entries()) this.index.set(id, i);
    const seeds = this.ids.slice(0, Math.max(1, options.seedCount ?? 1));
    const random = () => this.prng.next01();
    // Every setting from config.ts; the scenario overrides some.
    const config = { ...membershipConfig(DEFAULT_CONFIG), ...options.config };
    this.members = this.ids.map((id) => new Swim(id, seeds, random, config));
    const { gossipIntervalMs, probeIntervalMs } = this.members[0]!.config;
    for (let i = 0; i < options.nodes; i++) {
      this.queue.push(this.prng.float(0, gossipIntervalMs), { kind: 'gossip', node: i });
      this.queue.push(this.prng.float(0, probeIntervalMs), { kind: 'probe', node: i });
    }
  }

  get config(): SwimConfig {
    return this.members[0]!.config;
  }

  crash(node: number): void {
    assert(node >= 0 && node < this.members.length, 'crash a known node');
    this.crashed.add(node);
  }

  /** Runs events due up to `untilMs`; stops early when `stop()` holds after an event. */
  runUntil(untilMs: number, stop?: () => boolean): void {
    for (let handled = 0; handled < this.eventsMax; handled++) {
      const next = this.queue.peek();
      if (next === undefined || next.timeMs > untilMs) {
        this.nowMs = untilMs;
        return;
      }
      this.queue.pop();
      this.nowMs = next.timeMs;
      this.handle(next.value);
      if (stop?.()) return;
    }
    assert(false, `more than ${this.eventsMax} events before ${untilMs} ms`);
  }

  private handle(event: SimEvent): void {
    const node = event.kind === 'deliver' ? event.to : event.node;
    if (this.crashed.has(node)) return;
    const m = this.members[node]!;
    const now = this.nowMs;
    if (event.kind === 'gossip') {
      this.queue.push(now + this.config.gossipIntervalMs, event);
      this.emit(
        node,
        m.gossipTick(
          now,
          pickWith(() => this.prng.next01()),
        ),
      );
    } else if (event.kind === 'probe') {
      this.queue.push(now + this.config.probeIntervalMs, event);
      this.emit(node, m.probeTick(now));
    } else if (event.kind === 'timer') {
      this.emit(node, m.onTimer(event.timer, now));
    } else {
      this.emit(node, m.onMessage(event.message, now));
    }
  }

  private emit(node: number, out: SwimOutput): void {
    const by = this.ids[node]!;
    for (const change of out.changes) {
      if (change.status === 'dead') this.deaths.push({ atMs: this.nowMs, by, about: change.id });
    }
    for (const { timer, delayMs } of out.timers) {
      this.queue.push(this.nowMs + delayMs, { kind: 'timer', node, timer });
    }
    for (const { to, message } of out.sends) {
      this.messagesSent++;
      const target = this.index.get(to);
      assert(target !== undefined, `message to a known node ${to}`);
      const cut = this.isolated.has(node) || this.isolated.has(target);
      if (this.prng.chance(this.lossRate) || cut) {
        this.messagesLost++;
        continue;
      }
      const delay = Math.max(0, sampleDist(this.latency, this.prng));
      this.queue.push(this.nowMs + delay, { kind: 'deliver', to: target, message });
    }
  }

  /** How node `viewer` sees node `about` (undefined: unknown). */
  statusOf(viewer: number, about: number): MemberStatus | undefined {
    return this.members[viewer]!.record(this.ids[about]!)?.status;
  }

  /** Every running node knows every other running node as alive. */
  converged(): boolean {
    for (let v = 0; v < this.members.length; v++) {
      if (this.crashed.has(v)) continue;
      for (let a = 0; a < this.members.length; a++) {
        if (a !== v && !this.crashed.has(a) && this.statusOf(v, a) !== 'alive') return false;
      }
    }
    return true;
  }

  /** Every running node sees every crashed node as dead. */
  crashedDeclaredDead(): boolean {
    for (let v = 0; v < this.members.length; v++) {
      if (this.crashed.has(v)) continue;
      for (const c of this.crashed) if (this.statusOf(v, c) !== 'dead') return false;
    }
    return true;
  }

  /** Dead verdicts about nodes that never crashed. */
  falseDeaths(): DeathVerdict[] {
    return this.deaths.filter((d) => !this.crashed.has(this.index.get(d.about)!));
  }
}

/** Gossip rounds (intervals) until full convergence, or undefined within `roundsMax`. */
export function roundsToConverge(options: GossipSimOptions, roundsMax: number): number | undefined {
  const sim = new GossipSim(options);
  const interval = sim.config.gossipIntervalMs;
  for (let round = 1; round <= roundsMax; round++) {
    sim.runUntil(round * interval);
    if (sim.converged()) return round;
  }
  return undefined;
}
