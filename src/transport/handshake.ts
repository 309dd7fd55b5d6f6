/**
 * The first frame each way on a peer connection. The dialer says who it is, whom it meant to
 * reach, its protocol version, its cluster and which lane the connection carries; the acceptor
 * answers `welcome` or `refused` with a reason and closes. Checking is pure, here; the sockets
 * (and the TLS certificate check, which must agree with `from`) live in tcp.ts.
 */
import type { NodeId } from '../core/types.js';
import { nodeId } from '../core/types.js';
import { isNodeIdText } from '../util/node-id.js';

/** A connection carries quorum traffic or bulk streams (handoff, transfer, anti-entropy pushes). */
export type Lane = 'quorum' | 'bulk';
export const LANES: readonly Lane[] = ['quorum', 'bulk'];

/**
 * A one-shot request and its answer (ask.ts): a node not yet in the cluster asks a member for
 * the ring and to be let in. The dialer need not know whom it reaches, so it names ANY_NODE.
 */
export const ASK_LANE = 'ask';
export const ANY_NODE = '*';
export type HelloLane = Lane | typeof ASK_LANE;

/** Longest cluster name, in characters. */
export const CLUSTER_NAME_LENGTH_MAX = 128;
/** Printable ASCII without spaces: a cluster name shows up in logs and command lines. */
const CLUSTER_NAME_PATTERN = new RegExp(`^[!-~]{1,${CLUSTER_NAME_LENGTH_MAX}}$`);
/** Characters of a peer's refusal reason kept (it is untrusted text). */
export const REASON_CHARS_MAX = 200;

export function isClusterName(value: unknown): value is string {
  return typeof value === 'string' && CLUSTER_NAME_PATTERN.test(value);
}

/**
 * A process's incarnation: a random token made when its transport starts. Both sides name theirs
 * in the handshake, so each knows when the other restarted and can drop what it still holds for
 * the peer's previous life (see PeerConnection.fence).
 */
const INCARNATION_PATTERN = /^[0-9a-f]{8,64}$/;

export function isIncarnation(value: unknown): value is string {
  return typeof value === 'string' && INCARNATION_PATTERN.test(value);
}

export interface Hello {
  readonly ringkv: 'hello';
  readonly version: number;
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly lane: HelloLane;
  /** The dialer's incarnation. */
  readonly incarnation: string;
}

export type Answer =
  | {
      readonly ringkv: 'welcome';
      readonly version: number;
      readonly node: string;
      /** The acceptor's incarnation. */
      readonly incarnation: string;
    }
  | { readonly ringkv: 'refused'; readonly reason: string };

/** What this side expects of the other. */
export interface Expected {
  readonly version: number;
  readonly cluster: string;
  readonly self: NodeId;
}

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The acceptor's check of a dialer's hello. */
export function checkHello(x: unknown, expected: Expected): Checked<Hello & { from: NodeId }> {
  if (!isRecord(x) || x.ringkv !== 'hello') return refuse('the first frame is not a hello');
  if (x.version !== expected.version) {
    return refuse(`protocol version ${String(x.version)} is not ${expected.version}`);
  }
  if (x.cluster !== expected.cluster) return refuse('cluster name does not match');
  if (!isNodeIdText(x.from)) return refuse('the sender id is not a valid node id');
  if (x.from === expected.self) return refuse('a node does not dial itself');
  if (x.lane !== 'quorum' && x.lane !== 'bulk' && x.lane !== ASK_LANE) {
    return refuse('unknown lane');
  }
  const anyone = x.lane === ASK_LANE && x.to === ANY_NODE;
  if (x.to !== expected.self && !anyone)
    return refuse(`dialed ${String(x.to).slice(0, 80)}, reached ${expected.self}`);
  if (!isIncarnation(x.incarnation)) return refuse('the hello names no incarnation');
  return { ok: true, value: { ...(x as unknown as Hello), from: nodeId(x.from) } };
}

/**
 * The dialer's check of the acceptor's answer, having dialed `peer` (ANY_NODE on the ask lane:
 * any valid node id; under TLS the caller checks it against the certificate): its incarnation.
 */
export function checkAnswer(
  x: unknown,
  expected: Expected,
  peer: NodeId | typeof ANY_NODE,
): Checked<string> {
  if (!isRecord(x)) return refuse('the answer is not a handshake frame');
  if (x.ringkv === 'refused') {
    return refuse(`refused by the peer: ${String(x.reason).slice(0, REASON_CHARS_MAX)}`);
  }
  if (x.ringkv !== 'welcome') return refuse('the answer is not a handshake frame');
  if (x.version !== expected.version) {
    return refuse(`protocol version ${String(x.version)} is not ${expected.version}`);
  }
  const reached = peer === ANY_NODE ? isNodeIdText(x.node) : x.node === peer;
  if (!reached) return refuse(`dialed ${peer}, reached ${String(x.node).slice(0, 80)}`);
  if (!isIncarnation(x.incarnation)) return refuse('the welcome names no incarnation');
  return { ok: true, value: x.incarnation };
}
