/**
 * A random client workload: each simulated client loops — think, pick an operation, run it,
 * repeat — until stopped. Operations (weights in `mix`):
 * - readModifyWrite: get, then put with the context the get returned (the normal update);
 * - blindPut: put with an empty context (creates a sibling of whatever is there);
 * - deleteWithContext: get, then delete with its context when the key has live values;
 * - staleWrite: put with the context this client read from the key some time ago;
 * - read: get only.
 */
import { assert } from '../core/assert.js';
import type { VersionVector } from '../core/types.js';
import { contextOf, isDeleted } from '../core/version.js';
import { type Dist, sampleDist } from '../util/distributions.js';
import type { Prng } from '../util/prng.js';
import type { OpHandle, SimClient } from './client.js';
import type { Simulator } from './simulator.js';

export interface WorkloadMix {
  readonly readModifyWrite: number;
  readonly blindPut: number;
  readonly deleteWithContext: number;
  readonly staleWrite: number;
  readonly read: number;
}

export interface WorkloadOptions {
  readonly keys: readonly string[];
  readonly clients: number;
  readonly mix: WorkloadMix;
  /** Pause between one client's operations. */
  readonly thinkTime: Dist;
  /** Probability that an operation targets keys[0], concentrating conflicts on it. */
  readonly hotKeyRate: number;
}

/** A run's TTL writes and wall-clock offsets (picked by ttl-plan.ts). */
export interface TtlPlan {
  /** Share of puts that carry a TTL. */
  readonly putRate: number;
  /** TTLs are drawn uniformly from this range, in ms. */
  readonly ttlMsMin: number;
  readonly ttlMsMax: number;
  /** Each node's wall clock minus true time, in ms (index = node index). */
  readonly clockOffsetsMs: readonly number[];
}

/** TTL writes: which puts carry one and how long, drawn from a stream of their own. */
export interface WorkloadTtl {
  readonly plan: TtlPlan;
  readonly prng: Prng;
}

type OpName = keyof WorkloadMix;
const OP_NAMES: readonly OpName[] = [
  'readModifyWrite',
  'blindPut',
  'deleteWithContext',
  'staleWrite',
  'read',
];

/** Most clients one workload runs. */
export const WORKLOAD_CLIENTS_MAX = 1_000;

export class Workload {
  private running = false;
  /** Clients between picking an operation and its last request finishing. */
  private busy = 0;
  private readonly seen = new Map<string, VersionVector>();
  readonly started: Record<OpName, number> = {
    readModifyWrite: 0,
    blindPut: 0,
    deleteWithContext: 0,
    staleWrite: 0,
    read: 0,
  };

  constructor(
    private readonly sim: Simulator,
    private readonly prng: Prng,
    private readonly options: WorkloadOptions,
    private readonly ttl: WorkloadTtl | null = null,
  ) {
    assert(options.keys.length >= 1, 'a workload has keys');
    assert(
      options.clients >= 1 && options.clients <= WORKLOAD_CLIENTS_MAX,
      'client count in range',
    );
  }

  start(): void {
    this.running = true;
    for (let i = 1; i <= this.options.clients; i++) this.think(this.sim.client(`c${i}`));
  }

  /** No new operations start; those in flight finish. */
  stop(): void {
    this.running = false;
  }

  /** No operation is in flight. */
  get idle(): boolean {
    return this.busy === 0;
  }

  private think(client: SimClient): void {
    this.sim.after(sampleDist(this.options.thinkTime, this.prng), () => {
      if (!this.running) return;
      this.busy++;
      this.runOp(
        client,
        OP_NAMES[this.prng.pickWeighted(OP_NAMES.map((n) => this.options.mix[n]))]!,
      );
    });
  }

  private done(client: SimClient): void {
    assert(this.busy > 0, 'a finishing client was busy');
    this.busy--;
    this.think(client);
  }

  private pickKey(): string {
    const keys = this.options.keys;
    return this.prng.chance(this.options.hotKeyRate) ? keys[0]! : this.prng.pick(keys);
  }

  private runOp(client: SimClient, name: OpName): void {
    this.started[name]++;
    const key = this.pickKey();
    const then = (handle: OpHandle, next: (handle: OpHandle) => void): void => {
      handle.onDone.push(next);
    };
    const finish = () => this.done(client);
    const seenKey = `${client.name}\u0000${key}`;
    switch (name) {
      case 'blindPut':
        return then(client.put(key, this.ttlOption()), finish);
      case 'staleWrite': {
        const context = this.seen.get(seenKey) ?? [];
        return then(client.put(key, { context, ...this.ttlOption() }), finish);
      }
      case 'read':
        return then(client.get(key), (get) => {
          this.remember(seenKey, get);
          finish();
        });
      case 'readModifyWrite':
      case 'deleteWithContext':
        return then(client.get(key), (get) => {
          const context = this.remember(seenKey, get);
          if (context === null) return finish();
          const record = get.result?.ok && get.result.op === 'get' ? get.result.record : null;
          if (name === 'readModifyWrite') {
            return then(client.put(key, { context, ...this.ttlOption() }), finish);
          }
          if (record === null || isDeleted(record)) return finish();
          then(client.delete(key, { context }), finish);
        });
    }
  }

  /** A TTL for the next put, when the plan draws one (from the TTL stream only). */
  private ttlOption(): { ttlMs?: number } {
    if (this.ttl === null) return {};
    const { plan, prng } = this.ttl;
    if (!prng.chance(plan.putRate)) return {};
    return { ttlMs: prng.int(plan.ttlMsMin, plan.ttlMsMax) };
  }

  /** Keeps a successful get's context for later stale writes; null when the get failed. */
  private remember(seenKey: string, get: OpHandle): VersionVector | null {
    const result = get.result;
    if (get.op.outcome !== 'ok' || !result?.ok || result.op !== 'get') return null;
    const context = result.record === null ? [] : contextOf(result.record);
    this.seen.set(seenKey, context);
    return context;
  }
}
