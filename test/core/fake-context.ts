/**
 * A real NodeContext without a NodeCore, for unit tests of one sub-machine at a time: a Ring of
 * `n1..nK`, a RingView over it (so a sub-machine that adopts a ring state is seen by the others),
 * a real LocalStore over the simulator's storage, real Timers, a peer liveness the test controls,
 * and the limits of config.ts with the test's overrides. Tests call the sub-machine's methods and
 * read what it asked for from the Effects it was given; `makeDurable` plays the runtime's part of
 * completing persists and hands back their continuations for the test to route.
 */

import { coreLimits, DEFAULT_CONFIG } from '../../src/config.js';
import type { Effect, Effects } from '../../src/core/effects.js';
import { LocalStore } from '../../src/core/local-store.js';
import type { PeerMessage } from '../../src/core/messages.js';
import {
  type AfterPersist,
  type CoreLimits,
  contextOver,
  type NodeContext,
  type PeerLiveness,
} from '../../src/core/node-context.js';
import { Ring } from '../../src/core/ring.js';
import { initialRingState, type RingState } from '../../src/core/ring-state.js';
import { RingView } from '../../src/core/ring-view.js';
import { Timers } from '../../src/core/timers.js';
import { type KeyRecord, type NodeId, nodeId, type PersistWrite } from '../../src/core/types.js';
import { update } from '../../src/core/version.js';
import { SimStorage } from '../../src/sim/sim-storage.js';

/** Peer liveness the test sets by hand: `down` peers are routed around, `dead` ones also gone. */
export class FakeLiveness implements PeerLiveness {
  readonly down = new Set<NodeId>();
  readonly dead = new Set<NodeId>();

  isDown(peer: NodeId): boolean {
    return this.down.has(peer) || this.dead.has(peer);
  }

  isDead(peer: NodeId): boolean {
    return this.dead.has(peer);
  }
}

export interface FakeOptions {
  /** Nodes `n1..nK` of the ring. @default 5 */
  readonly nodes?: number;
  /** This node. @default n1 */
  readonly self?: string;
  /** @default 3 */
  readonly n?: number;
  /** @default 64 */
  readonly partitionCount?: number;
  readonly limits?: Partial<CoreLimits>;
  /** The liveness the context reports (a real Peers for the coordinator). @default FakeLiveness */
  readonly peers?: PeerLiveness;
  /** Storage to start from (holding hints or a ring state already). @default empty */
  readonly store?: SimStorage;
  /** The ring state to route by instead of the initial one. */
  readonly ringState?: RingState;
}

export interface FakeNode {
  readonly ctx: NodeContext;
  readonly ids: readonly NodeId[];
  readonly self: NodeId;
  readonly store: SimStorage;
  readonly local: LocalStore<AfterPersist>;
  readonly timers: Timers;
  readonly view: RingView;
  /** The liveness the context reports; a FakeLiveness unless the test passed its own. */
  readonly peers: PeerLiveness;
  /** Every mergeData call, in order. */
  readonly merges: Array<{ key: string; record: KeyRecord }>;
}

/** Node ids `n1..nK`. */
export function nodeIds(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => nodeId(`n${i + 1}`));
}

export function fakeContext(options: FakeOptions = {}): FakeNode {
  const ids = nodeIds(options.nodes ?? 5);
  const self = nodeId(options.self ?? 'n1');
  const n = options.n ?? 3;
  const ring = Ring.create(ids, options.partitionCount ?? 64);
  const view = new RingView(options.ringState ?? initialRingState(ring), self, n);
  const store = options.store ?? new SimStorage(self);
  let nextId = 1;
  const allocateId = () => nextId++;
  const local = new LocalStore<AfterPersist>(store, allocateId);
  const timers = new Timers(allocateId);
  const peers = options.peers ?? new FakeLiveness();
  const limits: CoreLimits = { ...coreLimits(DEFAULT_CONFIG), ...options.limits };
  const merges: Array<{ key: string; record: KeyRecord }> = [];
  const ctx: NodeContext = contextOver(
    {
      self,
      actor: `${self}.a`,
      n,
      limits,
      local,
      peers,
      timers,
      // Data writes go straight to the local store (the real node also updates its Merkle index).
      writeData: (key, record, then, out) => {
        local.write('data', key, record, then, out);
      },
      // Merges are recorded, not applied: tests check what a sub-machine asked to merge.
      mergeData: (key, record) => {
        merges.push({ key, record });
        return true;
      },
      // No wall clock: nothing expires unless a test passes records through `expire` itself.
      wallNowMs: () => null,
      asOfNow: (record) => record,
      current: (key) => local.read(key),
      allocateId,
    },
    view,
  );
  return { ctx, ids, self, store, local, timers, view, peers, merges };
}

// --- reading effects -------------------------------------------------------------------------

type Sent<T extends PeerMessage['type']> = {
  readonly to: NodeId;
  readonly message: Extract<PeerMessage, { type: T }>;
};

/** The messages of one type sent in `out`, with their destination. */
export function sent<T extends PeerMessage['type']>(out: Effects, type: T): Sent<T>[] {
  const found: Sent<T>[] = [];
  for (const effect of out.list) {
    if (effect.kind === 'send' && effect.message.type === type) {
      found.push({ to: effect.to, message: effect.message as Extract<PeerMessage, { type: T }> });
    }
  }
  return found;
}

export function ofKind<K extends Effect['kind']>(
  out: Effects,
  kind: K,
): Extract<Effect, { kind: K }>[] {
  return out.list.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);
}

/** The writes of `out`'s persists, in order; with `ns`, only that namespace's. */
export function writes(out: Effects, ns?: PersistWrite['ns']): PersistWrite[] {
  const all = ofKind(out, 'persist').flatMap((p) => p.writes);
  return ns === undefined ? all : all.filter((w) => w.ns === ns);
}

/**
 * Plays the runtime: applies every persist of `out` to the node's storage, in order, reports each
 * durable, and returns the continuations the sub-machines attached to them.
 */
export function makeDurable(node: FakeNode, out: Effects): AfterPersist[] {
  return ofKind(out, 'persist').map((persist) => {
    node.store.apply(persist.writes);
    return node.local.onPersisted(persist.token);
  });
}

/** The id of the last timer `out` set. */
export function lastTimer(out: Effects): { timerId: number; delayMs: number } {
  const timers = ofKind(out, 'set-timer');
  const last = timers[timers.length - 1];
  if (last === undefined) throw new Error('no timer was set');
  return last;
}

// --- keys and records ------------------------------------------------------------------------

/** The first key `k0, k1, …` whose preference list (on `ring`, length n) satisfies `test`. */
export function keyWhere(
  ring: Ring,
  n: number,
  test: (primaries: readonly NodeId[]) => boolean,
): string {
  for (let i = 0; i < 10_000; i++) {
    const key = `k${i}`;
    if (test(ring.preferenceList(key, n))) return key;
  }
  throw new Error('no key satisfies the test');
}

/** A record with one value written by `actor` (its dot's counter is `counter`). */
export function valueRecord(value: string, actor = 'w', counter = 1): KeyRecord {
  const bytes = new TextEncoder().encode(value);
  return update(undefined, [], actor, bytes, { counterMin: counter }).record;
}

/** A record of tombstones with these dots. */
export function tombstones(...dots: Array<readonly [string, number]>): KeyRecord {
  return { siblings: dots.map((dot) => ({ dot, past: [], value: null })) };
}
