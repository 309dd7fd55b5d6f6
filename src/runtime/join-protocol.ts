/**
 * What a node that is not in the cluster yet asks a member over the peer port (transport ask
 * lane, mutual TLS unless insecure: only a holder of a certificate of the cluster CA is
 * answered, and the id it asks for is the id its certificate names):
 * - `info`: the member's ring state, the address of every member it knows, the ids gossip
 *   says left or died and are out of the ring (a removed id is never reused), n;
 * - `join`: record my address and start a `join` ring change for me, with you as claimant.
 * Answers come from another process: they are checked here like any untrusted input.
 */
import { isRingState, type RingState } from '../core/ring-state.js';
import { isNodeIdText } from '../util/node-id.js';

export type JoinAsk = { readonly op: 'info' } | { readonly op: 'join'; readonly address: string };

export interface InfoAnswer {
  readonly ok: true;
  readonly state: RingState;
  /** id → HOST:PORT of every member the answering node can reach (itself included). */
  readonly members: Readonly<Record<string, string>>;
  /** Ids membership says left or died that are no longer in the ring. */
  readonly gone: readonly string[];
  readonly n: number;
}

export type JoinAnswer =
  | { readonly ok: true; readonly state: RingState }
  | { readonly ok: false; readonly error: string; readonly message: string };

/** Longest address accepted in an ask (a host name of 253 characters, a colon, a port). */
const ADDRESS_CHARS_MAX = 260;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function parseJoinAsk(x: unknown): JoinAsk | null {
  if (!isObject(x)) return null;
  if (x.op === 'info') return { op: 'info' };
  if (x.op === 'join' && typeof x.address === 'string' && x.address.length <= ADDRESS_CHARS_MAX) {
    return { op: 'join', address: x.address };
  }
  return null;
}

/** A refusal's text, whatever shape the peer gave it (bounded: it is untrusted). */
export function refusalOf(x: unknown): string | null {
  if (!isObject(x) || x.ok !== false) return null;
  const text = typeof x.message === 'string' ? x.message : String(x.error);
  return text.slice(0, 300);
}

/** The shape of an info answer (the caller compares its partition count and n with its own). */
export function isInfoAnswer(x: unknown): x is InfoAnswer {
  if (!isObject(x) || x.ok !== true || !isRingState(x.state)) return false;
  if (!Number.isSafeInteger(x.n) || (x.n as number) < 1) return false;
  if (!Array.isArray(x.gone) || !x.gone.every(isNodeIdText)) return false;
  if (!isObject(x.members)) return false;
  return Object.entries(x.members).every(([id, a]) => isNodeIdText(id) && typeof a === 'string');
}

export function isJoinAnswer(x: unknown, partitionCount: number): x is JoinAnswer {
  if (!isObject(x)) return false;
  if (x.ok === true) return isRingState(x.state, partitionCount);
  return x.ok === false && typeof x.error === 'string' && typeof x.message === 'string';
}
