/**
 * What a node process offers the supervisor that started it through its /control routes
 * (node-control.ts serves them; cli/node.ts wires a ProcessNode in). Its own file so that the
 * request context can name it without depending on the routes.
 */
import type { ClientRequest } from '../core/messages.js';

/** What a node offers its supervisor (runtime/process-node.ts, wired in cli/node.ts). */
export interface NodeControl {
  /** Hands a checked client request to the node's core; `cancel` stops waiting for it. */
  request(request: ClientRequest): {
    readonly reply: Promise<unknown>;
    cancel(): void;
  };
  stats(): unknown;
  inspect(key: string): unknown;
  /** What the node knows about the key (core/explain.ts), or null. */
  explain(key: string): unknown;
  /** Puts faults in force; throws a ValidationError (nothing changed) when they are malformed. */
  applyFaults(faults: unknown): void;
}

export interface ControlSettings {
  readonly node: NodeControl;
  /** Required on every control call; never logged. */
  readonly token: string;
}
