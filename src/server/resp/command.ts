/**
 * What a RESP command is: its Redis-style arity (n: exactly n arguments with the name; -n: at
 * least n), the flags and key positions COMMAND reports, and its handler. Handlers see the
 * arguments (name first) and a RespEnv; they return a Reply or throw (RespError, or a ringkv
 * error that connection.ts maps to an error reply).
 */
import type { KvClient } from '../../client/types.js';
import type { Reply } from './reply.js';
import type { Session } from './session.js';
import type { RespStats } from './stats.js';

/** What every handler can reach: the cluster, its connection's session, the server. */
export interface RespEnv {
  readonly client: KvClient;
  readonly session: Session;
  readonly server: ServerFacts;
}

/** Server-wide facts commands report or check. */
export interface ServerFacts {
  /** Required by AUTH / HELLO AUTH before other commands, when set. */
  readonly adminToken: string | null;
  /** The cluster's quorum defaults (RINGKV.CONFIG GET answers them where unset). */
  readonly defaults: { readonly n: number; readonly r: number; readonly w: number };
  readonly version: string;
  readonly startedAtMs: number;
  /** Connections open now. */
  clients(): number;
  /** The command table, for COMMAND. */
  readonly commands: ReadonlyMap<string, CommandSpec>;
  /** The server's counters, for INFO stats. */
  readonly stats: RespStats;
  /** Redis configuration parameters as ringkv has them, for CONFIG GET (name, value). */
  readonly redisParameters: ReadonlyArray<readonly [name: string, value: string]>;
}

export type Handler = (args: readonly Buffer[], env: RespEnv) => Reply | Promise<Reply>;

export interface CommandSpec {
  /** Lower case, as COMMAND reports it. */
  readonly name: string;
  readonly arity: number;
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  /** One line for COMMAND DOCS. */
  readonly summary: string;
  /** Runs before AUTH when a token is set (AUTH, HELLO, QUIT, …). */
  readonly noAuth?: boolean;
  readonly handler: Handler;
}

/** Whether `args` (name included) fits `arity`. */
export function arityFits(arity: number, count: number): boolean {
  return arity >= 0 ? count === arity : count >= -arity;
}
