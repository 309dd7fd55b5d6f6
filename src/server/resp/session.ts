/**
 * What one RESP connection remembers between commands: its protocol (2, or 3 after HELLO 3),
 * whether it authenticated, its name and library (CLIENT SETNAME/SETINFO) and its quorum
 * overrides (RINGKV.CONFIG SET r|w|pr|pw). Nothing here outlives the connection.
 */
import type { GetOptions, PutOptions } from '../../client/types.js';
import type { Protocol } from './reply.js';

export type QuorumName = 'r' | 'w' | 'pr' | 'pw';
export const QUORUM_NAMES: readonly QuorumName[] = ['r', 'w', 'pr', 'pw'];

export class Session {
  proto: Protocol = 2;
  authenticated: boolean;
  name: string | null = null;
  libName: string | null = null;
  libVersion: string | null = null;
  /** Set by QUIT: the connection closes once this reply is written. */
  closing = false;
  private readonly quorum: Partial<Record<QuorumName, number>> = {};

  constructor(
    readonly id: number,
    authRequired: boolean,
  ) {
    this.authenticated = !authRequired;
  }

  setQuorum(name: QuorumName, value: number | null): void {
    if (value === null) delete this.quorum[name];
    else this.quorum[name] = value;
  }

  quorumOf(name: QuorumName): number | null {
    return this.quorum[name] ?? null;
  }

  /** The read options every GET-like command passes (the cluster's defaults where unset). */
  readOptions(): GetOptions {
    const { r, pr } = this.quorum;
    return { ...(r === undefined ? {} : { r }), ...(pr === undefined ? {} : { pr }) };
  }

  /** The write options every SET-like command passes. */
  writeOptions(): PutOptions {
    const { w, pw } = this.quorum;
    return { ...(w === undefined ? {} : { w }), ...(pw === undefined ? {} : { pw }) };
  }
}
