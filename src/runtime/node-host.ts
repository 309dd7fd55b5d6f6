/**
 * Hosts one NodeCore on real time: carries out its effects with a Transport, a StorageEngine
 * and Node's timers, and feeds the results back as inputs. The simulator hosts the same core on
 * virtual time instead; nothing protocol-specific lives here.
 */
import type { Effect } from '../core/effects.js';
import { IdTable } from '../core/id-table.js';
import type { ClientResult } from '../core/messages.js';
import type { Input, NodeCore } from '../core/node.js';
import type { NodeId } from '../core/types.js';
import type { StorageEngine } from '../storage/engine.js';
import type { Transport } from '../transport/transport.js';
import { NodeLog, silentLogger } from './log.js';

export interface NodeHostEvents {
  /** A client request's answer. */
  reply(reqId: number, result: ClientResult): void;
  /** The node cannot go on (storage failed, or a core invariant broke); the host stopped. */
  fatal(error: unknown): void;
  /**
   * Gossip says `peer` is reached at `address` now (opaque: the runtime checks it). Called
   * before any later send of the same step. @default ignored (worker threads need no address)
   */
  peerAddress?(peer: NodeId, address: string): void;
}

export class NodeHost {
  /** By timer id (an IdTable, not a Map: see core/id-table.ts). */
  private readonly timers = new IdTable<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    readonly core: NodeCore,
    private readonly storage: StorageEngine,
    private readonly transport: Transport,
    private readonly events: NodeHostEvents,
    private readonly log: NodeLog = new NodeLog(silentLogger()),
  ) {
    transport.onMessage((from, message) => this.input({ kind: 'message', from, message }));
  }

  /** Feeds one input to the core and carries out its effects. */
  input(input: Input): void {
    if (this.stopped) return;
    this.logInput(input);
    const malformed = this.core.malformedMessages;
    let effects: Effect[];
    try {
      effects = this.core.step(input);
    } catch (error) {
      return this.fail(error, 'core step failed');
    }
    if (input.kind === 'message' && this.core.malformedMessages > malformed) {
      this.log.malformed(input.from, input.message);
    }
    for (const effect of effects) this.execute(effect);
  }

  /** Debug lines for what reaches the core (no-ops unless debug is on). */
  private logInput(input: Input): void {
    if (input.kind === 'request') this.log.request(input.reqId, input.request);
    else if (input.kind === 'message') this.log.message(input.from, input.message);
    else if (input.kind === 'peer-status') this.log.peerStatus(input.peer, input.up);
  }

  /** Stops timers and drops later inputs. Storage and transport belong to the caller. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.list()) clearTimeout(timer);
    this.timers.clear();
  }

  private execute(effect: Effect): void {
    switch (effect.kind) {
      case 'send':
        return this.transport.send(effect.to, effect.message);
      case 'reply':
        this.log.reply(effect.reqId, effect.result);
        return this.events.reply(effect.reqId, effect.result);
      case 'set-timer':
        return this.setTimer(effect.timerId, effect.delayMs);
      case 'cancel-timer':
        return this.cancelTimer(effect.timerId);
      case 'persist':
        this.storage.write(effect.writes).then(
          () => this.input({ kind: 'persisted', token: effect.token }),
          (error: unknown) => this.fail(error, 'storage write failed'),
        );
        return;
      case 'peer-address':
        return this.events.peerAddress?.(effect.peer, effect.address);
    }
  }

  private setTimer(timerId: number, delayMs: number): void {
    this.cancelTimer(timerId); // an id armed again replaces its timer, as Map.set did
    const timer = setTimeout(() => {
      this.timers.delete(timerId);
      this.input({ kind: 'timer', timerId });
    }, delayMs);
    this.timers.set(timerId, timer);
  }

  private cancelTimer(timerId: number): void {
    const timer = this.timers.get(timerId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timerId);
  }

  private fail(error: unknown, what: string): void {
    if (this.stopped) return;
    this.log.logger.error({ err: error }, `${what}; the node stops`);
    this.stop();
    this.events.fatal(error);
  }
}
